package dev.webstack.web;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Request targets (RFC 9112 section 3.2) and the one place a URL path becomes file name segments.
 *
 * <p>{@link #safeSegments} is the file-serving gate: it percent-decodes exactly once and refuses
 * anything that could name a file other than the one the plain path names: dot segments, empty
 * segments, encoded {@code /} or {@code \}, backslashes, NUL and other control characters, and
 * bytes that are not strict UTF-8 (which rules out overlong forms such as {@code %c0%ae}). Whatever
 * it lets through is still resolved with {@code toRealPath()} and checked against the root by the
 * caller, so symbolic links cannot lead out either.
 */
final class RequestPaths {
    private RequestPaths() {}

    /**
     * The path of a request target: origin-form {@code /p?q} or absolute-form
     * {@code http://host/p?q}; empty for anything else ({@code *}, authority-form, garbage).
     */
    static Optional<String> path(String uri) {
        String s = uri;
        int hash = s.indexOf('#');
        if (hash >= 0) {
            s = s.substring(0, hash);
        }
        if (s.regionMatches(true, 0, "http://", 0, 7) || s.regionMatches(true, 0, "https://", 0, 8)) {
            int slash = s.indexOf('/', s.indexOf("//") + 2);
            s = slash < 0 ? "/" : s.substring(slash);
        }
        if (!s.startsWith("/")) {
            return Optional.empty();
        }
        int q = s.indexOf('?');
        return Optional.of(q < 0 ? s : s.substring(0, q));
    }

    /**
     * The raw path with its empty and dot segments resolved, as nginx resolves them before it
     * chooses a location ({@code merge_slashes on}; RFC 3986 section 5.2.4): {@code //a} is
     * {@code /a}, {@code /a/./b} is {@code /a/b}, {@code /a/b/../c} is {@code /a/c}, {@code /a/..}
     * is {@code /}; a dot written {@code %2e} counts as one. Empty when a {@code ..} would climb
     * above {@code /}. Nothing else is decoded: an encoded {@code /}, a backslash or an overlong
     * dot stays in its segment, for {@link #safeSegments} to refuse. The usual path has no such
     * segment and is returned as it is.
     */
    static Optional<String> normalize(String rawPath) {
        if (!hasEmptyOrDotSegment(rawPath)) {
            return Optional.of(rawPath);
        }
        List<String> kept = new ArrayList<>();
        String[] parts = rawPath.substring(1).split("/", -1);
        for (String seg : parts) {
            if (isDotDot(seg)) {
                if (kept.isEmpty()) {
                    return Optional.empty();
                }
                kept.removeLast();
            } else if (!seg.isEmpty() && !isDot(seg)) {
                kept.add(seg);
            }
        }
        // What ends in an empty or a dot segment names a folder.
        String last = parts[parts.length - 1];
        boolean folder = last.isEmpty() || isDot(last) || isDotDot(last);
        String path = "/" + String.join("/", kept);
        return Optional.of(folder && !kept.isEmpty() ? path + "/" : path);
    }

    private static boolean hasEmptyOrDotSegment(String rawPath) {
        for (int i = 0; i < rawPath.length() - 1; i++) {
            char next = rawPath.charAt(i + 1);
            if (rawPath.charAt(i) == '/'
                    && (next == '/' || next == '.' || rawPath.regionMatches(true, i + 1, "%2e", 0, 3))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDot(String seg) {
        return seg.equals(".") || seg.equalsIgnoreCase("%2e");
    }

    private static boolean isDotDot(String seg) {
        return seg.equals("..") || seg.equalsIgnoreCase(".%2e") || seg.equalsIgnoreCase("%2e.") || seg.equalsIgnoreCase("%2e%2e");
    }

    /** Appends the byte {@code b} (0-255) percent-encoded, as RFC 3986 section 2.1 writes it: {@code %C3}. */
    static StringBuilder appendPercentEncoded(StringBuilder out, int b) {
        return out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
    }

    /** The query of a request target including its {@code ?}, or "" when it has none. */
    static String query(String uri) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return "";
        }
        int hash = uri.indexOf('#', q);
        return hash < 0 ? uri.substring(q) : uri.substring(q, hash);
    }

    /**
     * The percent-decoded path for routing decisions only (which tier answers); bad escapes are kept
     * as they are and bad UTF-8 becomes U+FFFD. Never use it to open a file.
     */
    static String decodeLeniently(String rawPath) {
        if (isPlainAscii(rawPath)) {
            return rawPath; // the usual path: nothing to decode, nothing to allocate
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(rawPath.length());
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            int hi;
            int lo;
            if (c == '%' && i + 2 < rawPath.length()
                    && (hi = Character.digit(rawPath.charAt(i + 1), 16)) >= 0
                    && (lo = Character.digit(rawPath.charAt(i + 2), 16)) >= 0) {
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                out.write(c > 0xff ? '?' : c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isPlainAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' || c >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * The segments of a raw (still percent-encoded) path, decoded once, or empty when the path is not
     * a plain file path. A trailing '/' yields a last empty segment (a directory, which no file is).
     */
    static Optional<List<String>> safeSegments(String rawPath) {
        if (!rawPath.startsWith("/")) {
            return Optional.empty();
        }
        // Nothing to decode in a plain ASCII path (the usual one): it is its own decoded form, and
        // the checks of each segment below apply to it as they do to a decoded path.
        Optional<String> decoded = isPlainAscii(rawPath) ? Optional.of(rawPath) : decodeStrictly(rawPath);
        if (decoded.isEmpty()) {
            return Optional.empty();
        }
        List<String> segments = new ArrayList<>();
        String[] parts = decoded.get().substring(1).split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            String seg = parts[i];
            boolean last = i == parts.length - 1;
            if (seg.equals(".") || seg.equals("..") || (seg.isEmpty() && !last)) {
                return Optional.empty();
            }
            for (int j = 0; j < seg.length(); j++) {
                char ch = seg.charAt(j);
                if (Character.isISOControl(ch) || ch == '\\') {
                    return Optional.empty();
                }
            }
            segments.add(seg);
        }
        return Optional.of(List.copyOf(segments));
    }

    /**
     * A raw path percent-decoded once into strict UTF-8; empty for a bad escape, an encoded '/',
     * a backslash or control character (encoded or not), or bytes that are not strict UTF-8.
     */
    private static Optional<String> decodeStrictly(String rawPath) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(rawPath.length());
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            int b;
            if (c == '%') {
                if (i + 2 >= rawPath.length()) {
                    return Optional.empty();
                }
                int hi = Character.digit(rawPath.charAt(i + 1), 16);
                int lo = Character.digit(rawPath.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return Optional.empty();
                }
                b = hi << 4 | lo;
                i += 2;
                // An encoded separator would turn one segment into two after decoding.
                if (b == '/') {
                    return Optional.empty();
                }
            } else if (c > 0xff) {
                return Optional.empty();
            } else {
                b = c;
            }
            if (b == '\\' || b < 0x20 || b == 0x7f) {
                return Optional.empty();
            }
            bytes.write(b);
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
