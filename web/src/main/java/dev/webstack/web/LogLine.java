package dev.webstack.web;

import io.netty.util.AsciiString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;

/**
 * One access log line being built as bytes, reused by its thread for every line it writes (see
 * {@link AccessLogWriter#line()}): no {@code String} per field or per line, no charset encoder.
 *
 * <p>{@link #quoted(CharSequence)} escapes like nginx's {@code escape=default}: {@code "}, {@code \},
 * control characters and every byte from {@code 0x7f} up become {@code \xHH}, so that a request can
 * neither forge a line nor put raw bytes in the file. Netty decodes a request's bytes one char per
 * byte, so a char is escaped as the byte it came from; a char above {@code 0xff} (never from the
 * wire) as its UTF-8 bytes.
 */
final class LogLine {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US);
    private static final DateTimeFormatter ISO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxxx", Locale.US);
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    // The bytes quoted() writes as they are: printable ASCII but for " and \.
    private static final boolean[] PLAIN = new boolean[256];

    static {
        for (int c = 0x20; c < 0x7f; c++) {
            PLAIN[c] = c != '"' && c != '\\';
        }
    }

    private byte[] bytes = new byte[512];
    private int length;

    // The last second formatted by this thread: formatting a date costs more than the rest of a line.
    private final SecondText localSecond = new SecondText(TIME);
    private final SecondText isoSecond = new SecondText(ISO_TIME);
    // The wall clock at baseNanos (a System.nanoTime() reading), taken again once a second: a
    // line's time then costs no clock read of its own.
    private long baseNanos;
    private long baseMillis = Long.MIN_VALUE;

    LogLine clear() {
        length = 0;
        return this;
    }

    int length() {
        return length;
    }

    /** Puts the line's bytes, without a line break, into {@code dst}. */
    void copyTo(ByteBuffer dst) {
        dst.put(bytes, 0, length);
    }

    LogLine raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, length, b.length);
        length += b.length;
        return this;
    }

    LogLine raw(char c) {
        ensure(1);
        bytes[length++] = (byte) c;
        return this;
    }

    /** Text we produced ourselves (an address, a protocol version): ASCII, written as it is. */
    LogLine ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            bytes[length++] = (byte) s.charAt(i);
        }
        return this;
    }

    /** Text from the request, escaped as the class comment says; {@code -} for none. */
    LogLine quoted(CharSequence s) {
        if (s == null) {
            return raw('-');
        }
        // The common case, text with nothing to escape, copied in one tight loop (locals, no
        // capacity check per byte) until the first character that needs escaping, if any.
        int n = s.length();
        ensure(n);
        byte[] to = bytes;
        int at = length;
        int i = 0;
        if (s instanceof AsciiString ascii) { // a request id, a header value set by the tier
            byte[] from = ascii.array();
            int offset = ascii.arrayOffset();
            for (; i < n; i++) {
                int c = from[offset + i] & 0xff;
                if (!PLAIN[c]) {
                    break;
                }
                to[at++] = (byte) c;
            }
        } else {
            for (; i < n; i++) {
                char c = s.charAt(i);
                if (c > 0xff || !PLAIN[c]) {
                    break;
                }
                to[at++] = (byte) c;
            }
        }
        length = at;
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c <= 0xff && PLAIN[c]) {
                raw(c);
            } else if (c <= 0xff) {
                hex(c);
            } else {
                for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
                    hex(b & 0xff);
                }
            }
        }
        return this;
    }

    /**
     * Text from the request as in a JSON string (nginx's {@code escape=json}): {@code "} and
     * {@code \} escaped with a backslash, control characters as {@code \n}, {@code \u001f} and so on,
     * other bytes as they came; nothing for none.
     */
    LogLine json(CharSequence s) {
        if (s == null) {
            return this;
        }
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && c <= 0xff) {
                if (length == bytes.length) {
                    ensure(n - i);
                }
                bytes[length++] = (byte) c;
            } else if (c == '"' || c == '\\') {
                raw('\\').raw(c);
            } else if (c < 0x20) {
                switch (c) {
                    case '\n' -> raw('\\').raw('n');
                    case '\r' -> raw('\\').raw('r');
                    case '\t' -> raw('\\').raw('t');
                    case '\b' -> raw('\\').raw('b');
                    case '\f' -> raw('\\').raw('f');
                    default -> {
                        ensure(6);
                        bytes[length++] = '\\';
                        bytes[length++] = 'u';
                        bytes[length++] = '0';
                        bytes[length++] = '0';
                        bytes[length++] = HEX[c >>> 4];
                        bytes[length++] = HEX[c & 0xf];
                    }
                }
            } else {
                raw(String.valueOf(c).getBytes(StandardCharsets.UTF_8)); // never from the wire: one char per byte there
            }
        }
        return this;
    }

    /** Text from the request as it came (nginx's {@code escape=none}); {@code -} for none. */
    LogLine plain(CharSequence s) {
        if (s == null) {
            return raw('-');
        }
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c <= 0xff) {
                raw(c);
            } else {
                raw(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return this;
    }

    LogLine number(long n) {
        if (n == Long.MIN_VALUE) {
            return ascii(Long.toString(n)); // has no positive counterpart to negate to
        }
        if (n < 0) {
            raw('-');
            n = -n;
        }
        ensure(20);
        byte[] to = bytes;
        int at = length + digits(n);
        length = at;
        do {
            to[--at] = (byte) ('0' + n % 10);
            n /= 10;
        } while (n > 0);
        return this;
    }

    /** How many decimal digits {@code n} (not negative) has. */
    private static int digits(long n) {
        int d = 1;
        for (long p = 10; d < 19 && n >= p; p *= 10) {
            d++;
        }
        return d;
    }

    /** Seconds with millisecond precision, e.g. {@code 0.004}, rounded to the nearest millisecond. */
    LogLine seconds(long micros) {
        long ms = (micros + 500) / 1_000;
        return number(ms / 1_000).raw('.').threeDigits(ms % 1_000);
    }

    /**
     * {@code 26/Nov/2026:07:05:09 +0000}: the local time, to the second, at {@code nanoTime}, a
     * {@link System#nanoTime()} reading of this thread's, no older than the one of the line before.
     */
    LogLine localTime(long nanoTime) {
        return raw(localSecond.text(Math.floorDiv(millis(nanoTime), 1_000)));
    }

    /** {@code 2026-11-26T07:05:09+00:00}: as {@link #localTime}, in ISO 8601 (nginx's {@code $time_iso8601}). */
    LogLine isoTime(long nanoTime) {
        return raw(isoSecond.text(Math.floorDiv(millis(nanoTime), 1_000)));
    }

    /** {@code 1795676709.123}: seconds since the epoch with milliseconds (nginx's {@code $msec}). */
    LogLine msec(long nanoTime) {
        long ms = millis(nanoTime);
        return number(Math.floorDiv(ms, 1_000)).raw('.').threeDigits(Math.floorMod(ms, 1_000));
    }

    /** {@code n} (0-999) with leading zeros: the milliseconds after a point. */
    private LogLine threeDigits(long n) {
        if (n < 100) {
            raw('0');
        }
        if (n < 10) {
            raw('0');
        }
        return number(n);
    }

    /** The text of the last second asked for, formatted again only when the second changes. */
    private static final class SecondText {
        private final DateTimeFormatter format;
        private long second = Long.MIN_VALUE;
        private byte[] text;

        SecondText(DateTimeFormatter format) {
            this.format = format;
        }

        byte[] text(long epochSecond) {
            if (epochSecond != second) {
                second = epochSecond;
                text = format.format(ZonedDateTime.ofInstant(Instant.ofEpochSecond(epochSecond), ZoneId.systemDefault()))
                        .getBytes(StandardCharsets.US_ASCII);
            }
            return text;
        }
    }

    /** The wall clock at {@code nanoTime}, in milliseconds, from a reading taken at most a second before. */
    private long millis(long nanoTime) {
        long elapsed = nanoTime - baseNanos;
        if (baseMillis == Long.MIN_VALUE || elapsed < 0 || elapsed >= 1_000_000_000L) {
            baseMillis = System.currentTimeMillis();
            baseNanos = nanoTime;
            elapsed = 0;
        }
        return baseMillis + elapsed / 1_000_000;
    }

    private void hex(int b) {
        ensure(4);
        bytes[length++] = '\\';
        bytes[length++] = 'x';
        bytes[length++] = HEX[b >>> 4];
        bytes[length++] = HEX[b & 0xf];
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
    }
}
