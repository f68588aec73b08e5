package dev.webstack.web;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;
import java.util.Date;

/**
 * The value of the {@code Date} header (RFC 9110 section 6.6.1), formatted once a second and kept as
 * an {@link AsciiString}, which the response encoder copies as bytes.
 */
final class HttpDate {
    private record Stamp(long second, AsciiString value) {
    }

    private static volatile Stamp current = new Stamp(-1, AsciiString.EMPTY_STRING);

    private HttpDate() {
    }

    /** Now, as an IMF-fixdate such as {@code Thu, 26 Nov 2026 00:18:58 GMT}. */
    static AsciiString now() {
        long millis = System.currentTimeMillis();
        long second = millis / 1000;
        Stamp s = current;
        if (s.second() != second) {
            // Two threads may both format the new second: the same value, no harm.
            s = new Stamp(second, AsciiString.of(DateFormatter.format(new Date(second * 1000))));
            current = s;
        }
        return s.value();
    }
}
