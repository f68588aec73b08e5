package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the DNS tier did since the start, for {@link DnsMetrics}, as {@code nsd-control stats}
 * counts it: queries by transport, answers by rcode and truncated, UDP answers the rate limit
 * dropped or sent truncated (slip), queries given no answer (garbage, answered with silence), and
 * zone transfers by type. Shared by every event loop: {@link LongAdder}s, so that each loop adds
 * to a cell of its own.
 */
final class DnsCounters {
    /** The transports a query comes over. */
    enum Transport { UDP, TCP }

    private final LongAdder[] queries = {new LongAdder(), new LongAdder()};
    private final LongAdder[] rcodes = new LongAdder[16];
    private final LongAdder truncated = new LongAdder();
    private final LongAdder unanswered = new LongAdder();
    private final LongAdder rateLimitDropped = new LongAdder();
    private final LongAdder rateLimitSlipped = new LongAdder();
    private final LongAdder axfr = new LongAdder();
    private final LongAdder ixfr = new LongAdder();

    DnsCounters() {
        for (int i = 0; i < rcodes.length; i++) {
            rcodes[i] = new LongAdder();
        }
    }

    /** A query came in over {@code transport}, and {@code response} (a DNS message, header first; null: none) went back. */
    void answered(Transport transport, ByteBuf response) {
        queries[transport.ordinal()].increment();
        if (response == null || response.readableBytes() < 4) {
            unanswered.increment();
            return;
        }
        int at = response.readerIndex();
        rcodes[response.getByte(at + 3) & 0xF].increment();
        if ((response.getByte(at + 2) & 0x02) != 0) {
            truncated.increment();
        }
    }

    /** A UDP query whose answer the rate limit dropped ({@code slipped}: sent truncated instead). */
    void rateLimited(boolean slipped) {
        queries[Transport.UDP.ordinal()].increment();
        (slipped ? rateLimitSlipped : rateLimitDropped).increment();
    }

    /** A zone transfer sent: AXFR, or IXFR ({@code incremental}: whatever its answer). */
    void transferred(boolean incremental) {
        (incremental ? ixfr : axfr).increment();
    }

    long queries(Transport transport) {
        return queries[transport.ordinal()].sum();
    }

    /** Answers with the header's {@code rcode} (0 to 15). */
    long rcode(int rcode) {
        return rcodes[rcode].sum();
    }

    long truncated() {
        return truncated.sum();
    }

    long unanswered() {
        return unanswered.sum();
    }

    /** UDP answers the rate limit dropped, or ({@code slipped}) sent truncated. */
    long limited(boolean slipped) {
        return (slipped ? rateLimitSlipped : rateLimitDropped).sum();
    }

    long transfers(boolean incremental) {
        return (incremental ? ixfr : axfr).sum();
    }
}
