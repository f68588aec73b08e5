package dev.webstack.common.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * One entry of {@code web.locations}, like an nginx {@code location} block: which request paths it
 * matches and the one thing the web tier does with them.
 *
 * <p>Paths are written as nginx writes them: {@code = /x} exact, {@code /static/} prefix,
 * {@code ^~ /static/} a prefix that, when it is the longest match, stops the regex search,
 * {@code ~ ^/posts/[0-9]+$} a regex ({@code ~*} case-insensitive; it may match anywhere in the path
 * unless anchored). They match the percent-decoded request path, without the query. A request
 * takes, in order: the exact location; else the longest prefix if it is {@code ^~}; else the first
 * regex in file order that matches; else the longest prefix; else it is proxied to the app.
 *
 * @param kind         how {@code pattern} matches
 * @param pattern      the path, prefix or regex as written (without its modifier)
 * @param host         the only host name this location answers for; empty: the site's own name
 * @param action       what is done with a matching request
 * @param cacheControl the {@code Cache-Control} of the answers the web tier writes itself (files,
 *                     redirects, returns); empty: {@value #DEFAULT_CACHE_CONTROL} for files and
 *                     {@code no-store} for the others. On a proxy location, that of the app's
 *                     answers that have none and a status nginx's {@code expires} applies to
 *                     (200, 201, 204, 206, 301, 302, 303, 304, 307, 308); empty: none added
 * @param index        for a path ending in '/', the files tried in it, in order (a root location only)
 * @param tryFiles     a root location only: a request its files cannot answer (no such file, a
 *                     method other than GET or HEAD) is proxied to the app instead of answered 404/405
 * @param access       which clients may use the location, and how often ({@link Access#OPEN}: all, unlimited)
 * @param headers      header name → value set on the location's answers whose status is one of
 *                     {@link #ANSWER_HEADER_STATUSES} (nginx's {@code add_header}), the app's answers
 *                     included, replacing a header of the same name; in file order, default none
 */
public record LocationConfig(Kind kind, String pattern, Optional<String> host, Action action, Optional<String> cacheControl,
                             List<String> index, boolean tryFiles, Access access, Map<String, String> headers) {
    /** The statuses {@code headers} (and a proxy location's Cache-Control) apply to: those of nginx's {@code add_header}. */
    public static final Set<Integer> ANSWER_HEADER_STATUSES = Set.of(200, 201, 204, 206, 301, 302, 303, 304, 307, 308);
    /** Headers a location cannot set: the message's framing, hop-by-hop ones, and those with keys of their own. */
    private static final Set<String> RESERVED_HEADERS = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
            "upgrade", "te", "trailer", "proxy-connection", "content-encoding", "content-range", "content-type", "cache-control",
            "date", "location");
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** The Cache-Control of static files when a location sets none. */
    public static final String DEFAULT_CACHE_CONTROL = "public, max-age=3600";
    /** The variables a redirect target may use (see {@link Redirect}). */
    public static final Set<String> REDIRECT_VARIABLES = Set.of("request_uri", "uri", "args", "is_args", "host", "scheme");
    static final Pattern HOST = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final Pattern FILE_NAME = Pattern.compile("[^/\\\\\\x00-\\x1f]+");
    private static final Pattern RATE = Pattern.compile("([0-9]{1,9})/(s|m)");

    public enum Kind {
        EXACT("= "), PREFIX(""), PREFIX_NO_REGEX("^~ "), REGEX("~ "), REGEX_CASELESS("~* ");

        private final String modifier;

        Kind(String modifier) {
            this.modifier = modifier;
        }

        public boolean isRegex() {
            return this == REGEX || this == REGEX_CASELESS;
        }
    }

    /** What a location does with a request: exactly one of these. */
    public sealed interface Action {}

    /**
     * Serve files from {@code root} (the request path names a file under it); a folder without an
     * index file is listed as {@code autoindex} says (nginx's {@code autoindex} and
     * {@code autoindex_format}), else answered 403.
     */
    public record Root(Path root, AutoIndex autoindex) implements Action {
        /** Without folder listings, nginx's default. */
        public Root(Path root) {
            this(root, AutoIndex.OFF);
        }
    }

    /** A folder's listing: none (403), an HTML page, or JSON. */
    public enum AutoIndex { OFF, HTML, JSON }

    /** Proxy to an upstream pool; {@value #APP} (the app servers) is the only one there is. */
    public record Proxy(String upstream) implements Action {
        public static final String APP = "app";
    }

    /**
     * Answer {@code status} with {@code Location: target}. The target may use {@code $request_uri}
     * (the path and query as received, still encoded), {@code $uri} (the path as received),
     * {@code $args} (the query without its '?'), {@code $is_args} ("?" when there is a query),
     * {@code $host} (the Host, without a port), {@code $scheme} ("http"), and in a regex location
     * {@code $1}...{@code $9}, the regex's groups; {@code ${name}} is the same as {@code $name}.
     */
    public record Redirect(String target, int status) implements Action {
        public static final Set<Integer> STATUSES = Set.of(301, 302, 307, 308);
        /** A variable in a target: {@code $name} or {@code ${name}} (group 1 or 2), a name or one digit. */
        public static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{([A-Za-z_]+|[0-9])}|([A-Za-z_]+|[0-9]))");
    }

    /** Answer {@code status}, with {@code body} as text/plain when given (else a short page for errors, nothing for others). */
    public record Return(int status, Optional<String> body) implements Action {}

    /**
     * Which clients may use a location and how often, checked before its action, by the address
     * the connection comes from (nginx's {@code allow}/{@code deny} and {@code limit_req}).
     *
     * @param allow when not empty, only clients in one of these blocks are served; others get 403
     * @param deny  clients in one of these blocks get 403, whatever {@code allow} says
     * @param rate  requests per second each client address may make here; beyond it 429
     * @param basicAuth the user name and password a request must carry (HTTP Basic); beyond the other checks, 401 without
     */
    public record Access(List<AddressRange> allow, List<AddressRange> deny, Optional<RequestRate> rate, Optional<BasicAuth> basicAuth) {
        /** Every client, as often as it likes, without a password: a location without allow, deny, limit-requests or auth-basic. */
        public static final Access OPEN = new Access(List.of(), List.of(), Optional.empty(), Optional.empty());

        public Access {
            allow = List.copyOf(allow);
            deny = List.copyOf(deny);
        }

        /** Addresses and a rate only, no password. */
        public Access(List<AddressRange> allow, List<AddressRange> deny, Optional<RequestRate> rate) {
            this(allow, deny, rate, Optional.empty());
        }
    }

    /**
     * HTTP Basic authentication (RFC 7617), as nginx's {@code auth_basic} and {@code auth_basic_user_file}.
     *
     * @param realm    what the browser shows when it asks for the user name and password
     * @param userFile an htpasswd file: {@code user:hash} per line (bcrypt, SHA-512/256-crypt, MD5-crypt
     *                 and apr1, {@code {SHA}}, {@code {PLAIN}}), read again when it changes
     */
    public record BasicAuth(String realm, Path userFile) {}

    /**
     * A request rate per client address, as nginx's {@code limit_req ... burst=N nodelay}: requests
     * are served at once while the client stays within {@code perSecond} on average, with up to
     * {@code burst} more at a time; the one after that is refused.
     *
     * @param perSecond requests per second, more than 0
     * @param burst     requests a client may make at once beyond the rate, default 0
     */
    public record RequestRate(double perSecond, int burst) {}

    public LocationConfig {
        index = List.copyOf(index);
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** As written in the config: {@code ~ ^/posts/[0-9]+$}. */
    public String path() {
        return kind.modifier + pattern;
    }

    /** The one-line report of this location, e.g. {@code location ~ ^/posts/[0-9]+$ -> proxy app}. */
    public String describe() {
        StringBuilder sb = new StringBuilder("location ");
        host.ifPresent(h -> sb.append(h).append(' '));
        sb.append(path()).append(" -> ");
        switch (action) {
            case Root r -> sb.append("root ").append(r.root()).append(tryFiles ? ", else proxy app" : "")
                    .append(r.autoindex() == AutoIndex.OFF ? "" : ", autoindex " + r.autoindex().name().toLowerCase(Locale.ROOT));
            case Proxy p -> sb.append("proxy ").append(p.upstream());
            case Redirect r -> sb.append("redirect ").append(r.status()).append(' ').append(r.target());
            case Return r -> sb.append("return ").append(r.status());
        }
        if (!index.isEmpty()) {
            sb.append(", index ").append(String.join(" ", index));
        }
        if (!access.allow().isEmpty()) {
            sb.append(", allow ").append(access.allow().stream().map(AddressRange::toString).collect(Collectors.joining(" ")));
        }
        if (!access.deny().isEmpty()) {
            sb.append(", deny ").append(access.deny().stream().map(AddressRange::toString).collect(Collectors.joining(" ")));
        }
        access.basicAuth().ifPresent(a -> sb.append(", auth-basic \"").append(a.realm()).append("\" ").append(a.userFile()));
        access.rate().ifPresent(r -> sb.append(", ").append(r.perSecond() >= 1 ? (long) r.perSecond() + "/s" : Math.round(r.perSecond() * 60) + "/m")
                .append(" per client, burst ").append(r.burst()));
        cacheControl.ifPresent(c -> sb.append(", Cache-Control: ").append(c));
        headers.forEach((name, value) -> sb.append(", ").append(name).append(": ").append(value));
        return sb.toString();
    }

    /** A static location, as each entry of the older {@code web.static} list is: a prefix ending in '/', else an exact path. */
    public static LocationConfig staticPath(String path, Path root) {
        return new LocationConfig(path.endsWith("/") ? Kind.PREFIX : Kind.EXACT, path, Optional.empty(), new Root(root),
                Optional.empty(), List.of(), false, Access.OPEN, Map.of());
    }

    /** {@code / -> proxy app}: what the web tier does with a path no location matches. */
    public static LocationConfig proxyAll() {
        return new LocationConfig(Kind.PREFIX, "/", Optional.empty(), new Proxy(Proxy.APP), Optional.empty(), List.of(), false, Access.OPEN,
                Map.of());
    }

    static List<LocationConfig> listFrom(List<ConfigNode> nodes, Path base, SiteConfig site) {
        List<LocationConfig> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConfigNode n : nodes) {
            LocationConfig l = from(n, base);
            // A table of its own for the canonical name would hide every location without host: refuse the trap.
            if (l.host.filter(site.www()::equals).isPresent()) {
                throw n.child("host").orElseThrow().error("'" + site.www() + "' is the site's own name: its locations are"
                        + " the ones without host");
            }
            // Two identical non-regex paths for one host: the second could never be chosen (nginx refuses it too).
            if (!l.kind.isRegex() && !seen.add(l.host.orElse("") + " " + (l.kind == Kind.EXACT ? "=" : "") + l.pattern)) {
                throw n.child("path").orElseThrow().error("'" + l.path() + "' is already a location"
                        + l.host.map(h -> " of " + h).orElse(""));
            }
            out.add(l);
        }
        return out;
    }

    static LocationConfig from(ConfigNode node, Path base) {
        node.allowOnly("path", "host", "root", "proxy", "redirect", "status", "return", "body", "cache-control", "index", "try-files",
                "allow", "deny", "limit-requests", "limit-burst", "headers", "auth-basic", "auth-basic-user-file", "autoindex");
        ConfigNode pathNode = node.child("path").orElseThrow(() -> node.error("path is missing (e.g. path: /static/)"));
        String written = pathNode.text().trim();
        Kind kind = Kind.PREFIX;
        for (Kind k : List.of(Kind.EXACT, Kind.PREFIX_NO_REGEX, Kind.REGEX_CASELESS, Kind.REGEX)) {
            if (written.startsWith(k.modifier)) {
                kind = k;
                break;
            }
        }
        String pattern = written.substring(kind.modifier.length()).trim();
        int groups = 0;
        if (kind.isRegex()) {
            try {
                groups = Pattern.compile(pattern).matcher("").groupCount();
            } catch (PatternSyntaxException e) {
                throw pathNode.error("'" + pattern + "' is not a valid regex: " + e.getDescription() + " near index " + e.getIndex());
            }
        } else if (!pattern.startsWith("/")) {
            throw pathNode.error("'" + written + "' (expected: /prefix/, = /exact, ^~ /prefix/, ~ regex or ~* regex)");
        }

        Optional<String> host = node.optionalString("host").map(h -> h.trim().toLowerCase(Locale.ROOT));
        if (host.isPresent() && !HOST.matcher(host.get()).matches()) {
            throw node.child("host").orElseThrow().error("'" + host.get() + "' (expected: a host name without a port)");
        }

        List<String> actions = new ArrayList<>();
        for (String a : List.of("root", "proxy", "redirect", "return")) {
            if (node.child(a).isPresent()) {
                actions.add(a);
            }
        }
        if (actions.isEmpty()) {
            throw node.error("a location needs one of root, proxy, redirect, return");
        }
        if (actions.size() > 1) {
            throw node.child(actions.get(1)).orElseThrow().error("a location has one action, and this one already has "
                    + actions.get(0));
        }
        Action action = switch (actions.get(0)) {
            case "root" -> new Root(base.resolve(node.string("root", "")).normalize(), autoindex(node));
            case "proxy" -> proxy(node);
            case "redirect" -> redirect(node, groups);
            default -> returned(node);
        };
        onlyWith(node, "status", action instanceof Redirect, "redirect (return takes its status as its value)");
        onlyWith(node, "body", action instanceof Return, "return");
        onlyWith(node, "index", action instanceof Root, "root");
        onlyWith(node, "try-files", action instanceof Root, "root");
        onlyWith(node, "autoindex", action instanceof Root, "root");

        List<String> index = node.list("index").stream().map(n -> {
            String f = n.text().trim();
            if (!FILE_NAME.matcher(f).matches() || f.equals(".") || f.equals("..")) {
                throw n.error("'" + f + "' (expected: a file name such as index.html)");
            }
            return f;
        }).toList();
        Optional<String> cacheControl = node.optionalString("cache-control").map(String::trim);
        if (cacheControl.isPresent() && cacheControl.get().chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw node.child("cache-control").orElseThrow().error("control characters are not allowed in a header value");
        }
        return new LocationConfig(kind, pattern, host, action, cacheControl, index, node.bool("try-files", false), access(node, base),
                headers(node));
    }

    /**
     * {@code autoindex}: off (the default) or on, as any other switch ({@link ConfigNode#bool}), on
     * being an HTML page; or {@code html} or {@code json} (nginx's {@code autoindex_format}).
     */
    private static AutoIndex autoindex(ConfigNode node) {
        String value = node.string("autoindex", "false").trim();
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "html" -> AutoIndex.HTML;
            case "json" -> AutoIndex.JSON;
            default -> {
                Optional<Boolean> on = ConfigNode.switchValue(value);
                if (on.isEmpty()) {
                    throw node.child("autoindex").orElseThrow()
                            .error("'" + value + "' (expected: false, true (an HTML page), html or json)");
                }
                yield on.get() ? AutoIndex.HTML : AutoIndex.OFF;
            }
        };
    }

    /** {@code headers}: a mapping of header names to values; none of the reserved names, no control characters. */
    private static Map<String, String> headers(ConfigNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, ConfigNode> e : node.section("headers").children().entrySet()) {
            String name = e.getKey();
            ConfigNode value = e.getValue();
            if (!TOKEN.matcher(name).matches()) {
                throw value.error("'" + name + "' is not a header name");
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED_HEADERS.contains(lower)) {
                throw value.error("the web tier sets " + name + " itself" + (lower.equals("cache-control") ? " (use cache-control:)"
                        : lower.equals("content-type") ? " (use web.mime-types)" : ""));
            }
            if (!seen.add(lower)) {
                throw value.error("'" + name + "' is given twice");
            }
            String v = value.text().trim();
            if (v.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
                throw value.error("control characters are not allowed in a header value");
            }
            out.put(name, v);
        }
        return out;
    }

    /** {@code allow} and {@code deny} (lists of address blocks), {@code limit-requests} ({@code N/s} or {@code N/m}) and {@code limit-burst}. */
    private static Access access(ConfigNode node, Path base) {
        Optional<RequestRate> rate = Optional.empty();
        Optional<ConfigNode> limit = node.child("limit-requests");
        if (limit.isPresent()) {
            Matcher m = RATE.matcher(limit.get().text().trim());
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw limit.get().error("'" + limit.get().text().trim() + "' (expected: requests per client per second or minute, e.g. 10/s or 30/m)");
            }
            double perSecond = Long.parseLong(m.group(1)) / (m.group(2).equals("s") ? 1.0 : 60.0);
            rate = Optional.of(new RequestRate(perSecond, node.integer("limit-burst", 0, 0, 1_000_000)));
        } else if (node.child("limit-burst").isPresent()) {
            throw node.child("limit-burst").orElseThrow().error("goes only with limit-requests");
        }
        Optional<ConfigNode> realm = node.child("auth-basic");
        Optional<ConfigNode> users = node.child("auth-basic-user-file");
        if (realm.isPresent() != users.isPresent()) {
            throw (realm.isPresent() ? realm : users).orElseThrow().error("give both auth-basic (the realm) and auth-basic-user-file (an htpasswd file)");
        }
        Optional<BasicAuth> basicAuth = Optional.empty();
        if (realm.isPresent()) {
            String r = realm.get().text().trim();
            if (r.isEmpty() || r.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '"' || c == '\\')) {
                throw realm.get().error("'" + r + "' (expected: a realm name without quotes, backslashes or control characters)");
            }
            basicAuth = Optional.of(new BasicAuth(r, users.get().readableFile(base)));
        }
        return new Access(AddressRange.listFrom(node, "allow"), AddressRange.listFrom(node, "deny"), rate, basicAuth);
    }

    private static void onlyWith(ConfigNode node, String key, boolean allowed, String what) {
        if (!allowed && node.child(key).isPresent()) {
            throw node.child(key).orElseThrow().error("goes only with " + what);
        }
    }

    private static Proxy proxy(ConfigNode node) {
        String upstream = node.string("proxy", "").trim();
        if (!upstream.equals(Proxy.APP)) {
            throw node.child("proxy").orElseThrow().error("'" + upstream + "' (expected: app, the app servers' pool)");
        }
        return new Proxy(upstream);
    }

    private static Redirect redirect(ConfigNode node, int groups) {
        ConfigNode t = node.child("redirect").orElseThrow();
        String target = t.text().trim();
        if (!target.startsWith("/") && !target.startsWith("http://") && !target.startsWith("https://") && !target.startsWith("$")) {
            throw t.error("'" + target + "' (expected: a URL starting with /, http:// or https://, or a variable)");
        }
        if (target.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            throw t.error("spaces and control characters are not allowed in a URL");
        }
        Matcher m = Redirect.VARIABLE.matcher(target);
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            boolean group = Character.isDigit(name.charAt(0));
            if (group ? Integer.parseInt(name) > groups : !REDIRECT_VARIABLES.contains(name)) {
                throw t.error("$" + name + (group ? " is not a group of this location's regex" : " is not a known variable")
                        + " (expected: $request_uri, $uri, $args, $is_args, $host, $scheme"
                        + (groups > 0 ? ", $1-$" + Math.min(groups, 9) : "") + ")");
            }
        }
        int status = node.integer("status", 302, 100, 599);
        if (!Redirect.STATUSES.contains(status)) {
            throw node.child("status").orElseThrow().error(status + " (expected: 301, 302, 307 or 308)");
        }
        return new Redirect(target, status);
    }

    private static Return returned(ConfigNode node) {
        int status = node.integer("return", 200, 100, 599);
        if (status < 200 || (status >= 300 && status < 400)) {
            throw node.child("return").orElseThrow().error(status
                    + (status < 200 ? " (expected: 200-599)" : " (expected: a 2xx, 4xx or 5xx status; use redirect: for 3xx)"));
        }
        Optional<String> body = node.child("body").map(ConfigNode::text);
        if (body.isPresent() && (status == 204 || status == 205)) {
            throw node.child("body").orElseThrow().error("a " + status + " answer has no body");
        }
        return new Return(status, body);
    }
}
