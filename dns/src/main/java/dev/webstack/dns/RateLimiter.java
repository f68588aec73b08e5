package dev.webstack.dns;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The counters behind {@link RateLimit}: a fixed table of {@value #BUCKETS} buckets, one per
 * client network hash, each counting the answers of the current second. Two networks that share a
 * bucket share its budget (the table never grows, whatever the number of sources, as in NSD's
 * {@code rrl-size}). Shared by the event-loop threads; each bucket is updated under its own lock,
 * which is uncontended unless two threads serve the same network in the same instant.
 */
final class RateLimiter {
    /** Buckets in the table. */
    static final int BUCKETS = 1 << 16;

    /** What to do with one answer. */
    enum Verdict { SEND, SLIP, DROP }

    private final RateLimit limit;
    private final LongSupplier clock;
    private final Bucket[] buckets;
    private final int ipv4Mask;

    /**
     * @param limit the settings
     * @param clock the current time in milliseconds (System::currentTimeMillis outside tests)
     */
    RateLimiter(RateLimit limit, LongSupplier clock) {
        this.limit = limit;
        this.clock = clock;
        this.buckets = new Bucket[limit.enabled() ? BUCKETS : 0];
        Arrays.setAll(buckets, i -> new Bucket());
        this.ipv4Mask = limit.ipv4PrefixLength() == 32 ? -1 : ~(-1 >>> limit.ipv4PrefixLength());
    }

    RateLimit limit() {
        return limit;
    }

    /** Counts one answer to {@code client} and says whether to send it, send it truncated, or drop it. */
    Verdict check(InetAddress client) {
        if (!limit.enabled()) {
            return Verdict.SEND;
        }
        return check(client instanceof Inet4Address ? ipv4Network(client.hashCode()) : ipv6Network(client.getAddress()));
    }

    /**
     * As {@link #check(InetAddress)}, for the client network {@link #ipv4Network} or
     * {@link #ipv6Network} gave: the datagram path reads the sender from native memory and makes
     * no address object for it.
     */
    Verdict check(long network) {
        if (!limit.enabled()) {
            return Verdict.SEND;
        }
        Bucket bucket = buckets[index(network)];
        long second = clock.getAsLong() / 1000;
        synchronized (bucket) {
            if (bucket.second != second || bucket.network != network) {
                bucket.second = second;
                bucket.network = network;
                bucket.count = 0;
                bucket.limited = 0;
            }
            if (bucket.count < limit.responsesPerSecond()) {
                bucket.count++;
                return Verdict.SEND;
            }
            bucket.limited++;
            return limit.slip() > 0 && bucket.limited % limit.slip() == 0 ? Verdict.SLIP : Verdict.DROP;
        }
    }

    /** The network of the IPv4 {@code address} (its four bytes in network order, as {@code Inet4Address.hashCode}): the masked address. */
    long ipv4Network(int address) {
        return (address & ipv4Mask) & 0xFFFF_FFFFL;
    }

    /** The network of the IPv6 {@code address} (16 bytes): a hash of its prefix, never equal to an IPv4 network. */
    long ipv6Network(byte[] address) {
        int bits = limit.ipv6PrefixLength();
        long h = 0x6a09e667f3bcc909L;
        for (int i = 0; i < address.length && bits > 0; i++, bits -= 8) {
            int b = address[i] & (bits >= 8 ? 0xFF : (0xFF << (8 - bits)) & 0xFF);
            h = (h ^ b) * 0x100000001b3L;
        }
        return h | (1L << 62);
    }

    private static int index(long network) {
        long h = network * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 48) & (BUCKETS - 1);
    }

    private static final class Bucket {
        long network = -1;
        long second = -1;
        int count;
        int limited;
    }
}
