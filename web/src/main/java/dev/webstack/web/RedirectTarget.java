package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

/**
 * The {@code redirect:} URL of a location, split once into text and variables (see
 * {@link LocationConfig.Redirect} for the variables), and filled in per request.
 *
 * <p>Values taken from the request line ({@code $request_uri}, {@code $uri}, {@code $args}) are
 * copied as received, still percent-encoded. Regex groups come from the decoded path, so they are
 * percent-encoded again: whatever a client sends, the {@code Location} header gets no space, control
 * character or non-ASCII byte (no header injection through {@code %0d%0a}).
 */
final class RedirectTarget {
    /** One piece of the URL: literal text, a named variable or a regex group. */
    private sealed interface Part {}

    private record Text(String text) implements Part {}

    private record Variable(String name) implements Part {}

    private record Group(int number) implements Part {}

    /** What a target is filled in from. */
    record Request(String uri, String host, String decodedPath, Location location, boolean secure) {}

    private final List<Part> parts;
    private final boolean usesGroups;

    RedirectTarget(String template) {
        List<Part> out = new ArrayList<>();
        Matcher m = LocationConfig.Redirect.VARIABLE.matcher(template);
        int at = 0;
        boolean groups = false;
        while (m.find()) {
            if (m.start() > at) {
                out.add(new Text(template.substring(at, m.start())));
            }
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            if (Character.isDigit(name.charAt(0))) {
                out.add(new Group(name.charAt(0) - '0'));
                groups = true;
            } else {
                out.add(new Variable(name));
            }
            at = m.end();
        }
        if (at < template.length()) {
            out.add(new Text(template.substring(at)));
        }
        this.parts = List.copyOf(out);
        this.usesGroups = groups;
    }

    /** The URL for one request. */
    String fill(Request r) {
        String path = RequestPaths.path(r.uri()).orElse("/");
        String query = RequestPaths.query(r.uri());
        String[] groups = usesGroups ? r.location().groups(r.decodedPath()) : new String[0];
        StringBuilder sb = new StringBuilder(64);
        for (Part p : parts) {
            switch (p) {
                case Text t -> sb.append(t.text());
                case Group g -> sb.append(encode(g.number() < groups.length ? groups[g.number()] : ""));
                case Variable v -> sb.append(switch (v.name()) {
                    case "request_uri" -> path + query;
                    case "uri" -> path;
                    case "args" -> query.isEmpty() ? "" : query.substring(1);
                    case "is_args" -> query.isEmpty() ? "" : "?";
                    case "host" -> r.host();
                    case "scheme" -> r.secure() ? "https" : "http";
                    default -> throw new IllegalStateException("unknown variable $" + v.name() + " (the config checks them)");
                });
            }
        }
        return sb.toString();
    }

    /** Percent-encodes what may not stand in a URL as it is (RFC 3986 section 2): keeps unreserved and sub-delimiters, '/', ':', '@'. */
    static String encode(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~!$&'()*+,;=/:@".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                RequestPaths.appendPercentEncoded(sb, c);
            }
        }
        return sb.toString();
    }
}
