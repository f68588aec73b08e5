package dev.webstack.common.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What an access log line holds: nginx's {@code log_format}, with the variables of nginx's that
 * the web tier knows ({@link #VARIABLES}, and {@code $http_NAME} / {@code $sent_http_NAME} for any
 * request or response header). {@code web.access-log-format} names a preset ({@code webstack}, the
 * default, or {@code combined}) or is a template; {@code web.access-log-escape} says how variable
 * values are escaped, as nginx's {@code escape=} parameter does.
 *
 * @param template the template, presets expanded
 * @param escape   how variable values are escaped
 * @param parts    the template cut into literal text and variables, in order
 */
public record AccessLogFormat(String template, Escape escape, List<Part> parts) {

    /** nginx's predefined {@code combined} format. */
    public static final String COMBINED = "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
            + "\"$http_referer\" \"$http_user_agent\"";

    /** The web tier's default: {@link #COMBINED}, then the request time in seconds and the request id. */
    public static final String WEBSTACK = COMBINED + " $request_time $request_id";

    /** The variables a template may use besides {@code $http_NAME} and {@code $sent_http_NAME}, as nginx names them. */
    public static final Set<String> VARIABLES = Set.of("remote_addr", "remote_user", "time_local", "time_iso8601", "msec",
            "request", "request_method", "request_uri", "args", "server_protocol", "status", "body_bytes_sent",
            "request_time", "request_id", "host", "scheme", "upstream_addr", "upstream_status", "upstream_response_time",
            "connection", "connection_requests", "request_length", "bytes_sent");

    public static final AccessLogFormat DEFAULT = parse(WEBSTACK, Escape.DEFAULT);

    /**
     * How variable values are written (nginx's {@code escape=}). {@code DEFAULT}: {@code "}, {@code \},
     * control characters and bytes from {@code 0x7f} up as {@code \xHH}, a missing value as
     * {@code -}. {@code JSON}: as in a JSON string ({@code \"}, {@code \\}, {@code \n}, {@code \u001f}
     * ...), a missing value empty. {@code NONE}: values as they are, a missing value as {@code -}.
     */
    public enum Escape { DEFAULT, JSON, NONE }

    /** A piece of a template. */
    public sealed interface Part {}

    /** Text written as it is. */
    public record Text(String text) implements Part {}

    /**
     * A variable, its name in lower case (nginx's are case-insensitive): one of {@link #VARIABLES},
     * or {@code http_} / {@code sent_http_} and a header name with {@code _} for {@code -}.
     */
    public record Variable(String name) implements Part {}

    public AccessLogFormat {
        parts = List.copyOf(parts);
    }

    /**
     * A preset by name ({@code webstack}, {@code combined}) or a template: literal text and
     * variables ({@code $name} or {@code ${name}}).
     *
     * @throws IllegalArgumentException naming the first unknown variable, or a {@code $} without a name
     */
    public static AccessLogFormat parse(String format, Escape escape) {
        String template = switch (format) {
            case "webstack" -> WEBSTACK;
            case "combined" -> COMBINED;
            default -> format;
        };
        if (template.isEmpty()) {
            throw new IllegalArgumentException("an empty format (expected: webstack, combined or a template such as "
                    + "'$remote_addr \"$request\" $status')");
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < template.length(); ) {
            char c = template.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("a control character at position " + (i + 1) + " (a line is one line)");
            }
            if (c != '$') {
                text.append(c);
                i++;
                continue;
            }
            boolean braced = i + 1 < template.length() && template.charAt(i + 1) == '{';
            int start = braced ? i + 2 : i + 1;
            int end = start;
            while (end < template.length() && isNameChar(template.charAt(end))) {
                end++;
            }
            if (braced && (end >= template.length() || template.charAt(end) != '}')) {
                throw new IllegalArgumentException("'${' at position " + (i + 1) + " is not closed by '}' after a variable name");
            }
            String name = template.substring(start, end).toLowerCase(Locale.ROOT); // as nginx, whatever the case
            if (name.isEmpty()) {
                throw new IllegalArgumentException("'$' at position " + (i + 1) + " without a variable name (nginx's variables, e.g. $status)");
            }
            if (!known(name)) {
                throw new IllegalArgumentException("unknown variable $" + name + " (known: " + String.join(", ", new TreeSet<>(VARIABLES)
                        .stream().map(v -> "$" + v).toList()) + ", $http_NAME, $sent_http_NAME)");
            }
            if (!text.isEmpty()) {
                parts.add(new Text(text.toString()));
                text.setLength(0);
            }
            parts.add(new Variable(name));
            i = braced ? end + 1 : end;
        }
        if (!text.isEmpty()) {
            parts.add(new Text(text.toString()));
        }
        return new AccessLogFormat(template, escape, parts);
    }

    /** {@code web.access-log-escape}'s value: {@code default}, {@code json} or {@code none}. */
    public static Escape escape(String value) {
        return switch (value) {
            case "default" -> Escape.DEFAULT;
            case "json" -> Escape.JSON;
            case "none" -> Escape.NONE;
            default -> throw new IllegalArgumentException("'" + value + "' (expected: default, json or none)");
        };
    }

    private static boolean known(String name) {
        if (VARIABLES.contains(name)) {
            return true;
        }
        return name.startsWith("http_") && name.length() > 5 || name.startsWith("sent_http_") && name.length() > 10;
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }
}
