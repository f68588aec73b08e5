package dev.webstack.web;

import dev.webstack.common.config.SiteConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which site a request is for, from its Host header (RFC 9110 section 7.2), or from the authority of
 * an absolute-form target, which takes precedence (RFC 9112 section 3.2.2).
 *
 * <p>Only the canonical name is served. The apex is redirected to it, keeping the path and the query
 * (and a non-default port, so that {@code curl -H 'Host: foobar.com:8080'} lands on the same server).
 * Any other name is answered 421 Misdirected Request (RFC 9110 section 15.5.20) rather than with the
 * site, so that the site is never reachable under a name it does not own. An HTTP/1.1 request without
 * a Host, or with several, is a 400 (RFC 9112 section 3.2); an HTTP/1.0 request without one is served
 * as the canonical name, as HTTP/1.0 did not require the header.
 *
 * <p>A name that has locations of its own ({@code host:} in {@code web.locations}) is served too,
 * with those locations; that includes the apex, which is then not redirected.
 */
final class VirtualHosts {
    private final SiteConfig site;
    private final Set<String> locationHosts;
    private final String httpsAuthoritySuffix;

    VirtualHosts(SiteConfig site) {
        this(site, Set.of(), -1);
    }

    /**
     * @param locationHosts names served with locations of their own
     * @param httpsPort     plain HTTP requests for a served name are redirected to HTTPS on this port
     *                      ({@code web.tls.redirect-http}); -1 for none
     */
    VirtualHosts(SiteConfig site, Set<String> locationHosts, int httpsPort) {
        this.site = site;
        this.locationHosts = Set.copyOf(locationHosts);
        this.httpsAuthoritySuffix = httpsPort < 0 ? null : httpsPort == 443 ? "" : ":" + httpsPort;
    }

    sealed interface Decision {}

    record Serve() implements Decision {}

    record Redirect(String location) implements Decision {}

    record Misdirected(String host) implements Decision {}

    record BadHost(String reason) implements Decision {}

    Decision decide(HttpRequest req) {
        return decide(req, false);
    }

    /** What to do with {@code req}, which came over HTTPS when {@code secure} (the apex then redirects to https://www). */
    Decision decide(HttpRequest req, boolean secure) {
        List<String> hosts = req.headers().getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return new BadHost("more than one Host header");
        }
        Optional<String> authority = absoluteAuthority(req.uri());
        String raw = authority.orElse(hosts.isEmpty() ? null : hosts.get(0));
        if (raw == null) {
            return req.protocolVersion().equals(HttpVersion.HTTP_1_0)
                    ? new Serve()
                    : new BadHost("the Host header is missing");
        }
        String hostPort = raw.trim().toLowerCase(Locale.ROOT);
        String name = stripPort(hostPort);
        String port = hostPort.substring(name.length());
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (!secure && httpsAuthoritySuffix != null && (name.equals(site.www()) || name.equals(site.domain()) || locationHosts.contains(name))) {
            // The apex goes straight to www over HTTPS, one redirect rather than two.
            String target = name.equals(site.domain()) && !locationHosts.contains(name) ? site.www() : name;
            return redirect("https://" + target + httpsAuthoritySuffix, req);
        }
        if (name.equals(site.www()) || locationHosts.contains(name)) {
            return new Serve();
        }
        if (name.equals(site.domain())) {
            String keepPort = port.equals(secure ? ":443" : ":80") || !port.matches(":[0-9]{1,5}") ? "" : port;
            return redirect((secure ? "https://" : "http://") + site.www() + keepPort, req);
        }
        return new Misdirected(name);
    }

    /** To {@code origin} (scheme, host and port), keeping the request's path and query. */
    private static Redirect redirect(String origin, HttpRequest req) {
        return new Redirect(origin + RequestPaths.path(req.uri()).orElse("/") + RequestPaths.query(req.uri()));
    }

    /**
     * The host name a request is for, lower case, without port or final dot: the authority of an
     * absolute-form target, else the Host header; "" when there is none. For choosing locations
     * of a request {@link #decide} let through.
     */
    static String name(HttpRequest req) {
        String raw = absoluteAuthority(req.uri()).orElse(req.headers().get(HttpHeaderNames.HOST));
        if (raw == null) {
            return "";
        }
        String name = stripPort(raw.trim().toLowerCase(Locale.ROOT));
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** {@code host[:port]} → {@code host}; {@code [v6]:port} → {@code [v6]}. */
    static String stripPort(String hostPort) {
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            return close < 0 ? hostPort : hostPort.substring(0, close + 1);
        }
        int colon = hostPort.lastIndexOf(':');
        return colon < 0 ? hostPort : hostPort.substring(0, colon);
    }

    private static Optional<String> absoluteAuthority(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme <= 0 || uri.startsWith("/")) {
            return Optional.empty();
        }
        int start = scheme + 3;
        int end = start;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        String authority = uri.substring(start, end);
        int at = authority.lastIndexOf('@');
        return Optional.of(at < 0 ? authority : authority.substring(at + 1));
    }
}
