package dev.webstack.dns;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The TCP connections open at once, bounded by {@code dns.tcp-connections} (NSD's
 * {@code tcp-count}, BIND's {@code tcp-clients}), as RFC 7766 section 10 asks of a server: a
 * connection over the limit is closed as soon as it is accepted, so that clients which open
 * connections and leave them idle (each for up to {@link DnsServer#TCP_IDLE_SECONDS} s) cannot
 * take every file descriptor of the process, nor the room of the clients already served. UDP is
 * not affected. Shared by the event loops; {@link #limit} changes the bound on reload, the open
 * connections stay.
 */
final class TcpConnections {
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder refused = new LongAdder();
    private volatile int max;

    /**
     * @param max the most connections open at once, at least 1
     */
    TcpConnections(int max) {
        limit(max);
    }

    /** From now on at most {@code max} connections are open at once (the ones over it stay until they close). */
    void limit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max: " + max + " (expected: 1 or more)");
        }
        this.max = max;
    }

    /**
     * Counts {@code connection}, just accepted, as open until it closes; or closes it when the
     * limit is reached. Returns whether it was kept.
     */
    boolean admit(Channel connection) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            refused.increment();
            connection.close();
            return false;
        }
        connection.closeFuture().addListener(f -> open.decrementAndGet());
        return true;
    }

    /** The connections open now. */
    int open() {
        return open.get();
    }

    /** The connections closed at once because the limit was reached, since the start. */
    long refused() {
        return refused.sum();
    }

    int max() {
        return max;
    }
}
