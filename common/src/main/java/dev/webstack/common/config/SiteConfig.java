package dev.webstack.common.config;

/**
 * The site's names. {@code www} is the canonical host the web tier serves; requests for
 * {@code domain} (the apex) are redirected to it.
 *
 * @param domain the apex, e.g. {@code foobar.com}
 * @param www    the canonical host name, e.g. {@code www.foobar.com}
 */
public record SiteConfig(String domain, String www) {

    static SiteConfig from(ConfigNode node) {
        node.allowOnly("domain", "www");
        String domain = hostName(node, "domain", "foobar.com");
        String www = hostName(node, "www", "www." + domain);
        return new SiteConfig(domain, www);
    }

    private static String hostName(ConfigNode node, String key, String def) {
        String s = node.string(key, def).trim().toLowerCase();
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        if (!s.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")) {
            throw node.child(key).orElse(node).error("'" + s + "' is not a host name");
        }
        return s;
    }
}
