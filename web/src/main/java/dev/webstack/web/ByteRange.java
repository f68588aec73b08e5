package dev.webstack.web;

/**
 * What a {@code Range} header (RFC 9110 section 14.2) asks of a file of a given size.
 *
 * <p>Only a single range of the {@code bytes} unit is honoured: {@code a-b}, {@code a-} and the
 * suffix form {@code -n}. A header that is not valid syntax, uses another unit or asks for several
 * ranges is ignored and the whole file is sent, which RFC 9110 allows ("A server MAY ignore the
 * Range header field").
 */
sealed interface ByteRange {

    /** Send the whole file with 200. */
    record Full() implements ByteRange {}

    /** Send bytes {@code first..last} (inclusive) with 206. */
    record Partial(long first, long last) implements ByteRange {
        long length() {
            return last - first + 1;
        }
    }

    /** Answer 416 with {@code Content-Range: bytes *}{@code /size}. */
    record Unsatisfiable() implements ByteRange {}

    static ByteRange parse(String header, long size) {
        String h = header.trim();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return new Full();
        }
        String spec = h.substring(6).trim();
        if (spec.indexOf(',') >= 0) {
            return new Full();
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return new Full();
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        if (a.isEmpty()) {
            long n = number(b);
            if (n < 0) {
                return new Full();
            }
            if (n == 0 || size == 0) {
                return new Unsatisfiable();
            }
            return new Partial(Math.max(0, size - n), size - 1);
        }
        long first = number(a);
        long last = b.isEmpty() ? Long.MAX_VALUE : number(b);
        if (first < 0 || last < 0 || last < first) {
            return new Full();
        }
        if (first >= size) {
            return new Unsatisfiable();
        }
        return new Partial(first, Math.min(last, size - 1));
    }

    /** The value of a run of digits, or -1 when it is not one (or does not fit a long). */
    private static long number(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(s);
    }
}
