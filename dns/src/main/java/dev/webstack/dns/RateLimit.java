package dev.webstack.dns;

/**
 * Response rate limiting (RRL) over UDP, as NSD does it by default: a client network (the
 * address's /24 for IPv4, /56 for IPv6) gets at most {@code responsesPerSecond} answers per second;
 * beyond that, answers are dropped, except every {@code slip}-th, which is sent truncated (TC=1,
 * question only) so that a real client retries over TCP, which is never limited. This keeps the
 * server from amplifying spoofed-source floods.
 *
 * <table>
 *   <caption>Settings and defaults (NSD's)</caption>
 *   <tr><td>responsesPerSecond</td><td>{@value #DEFAULT_RATE}; 0 turns limiting off</td></tr>
 *   <tr><td>slip</td><td>{@value #DEFAULT_SLIP}: every 2nd limited answer is sent truncated; 0: none, 1: all</td></tr>
 *   <tr><td>ipv4PrefixLength</td><td>{@value #DEFAULT_IPV4_PREFIX}</td></tr>
 *   <tr><td>ipv6PrefixLength</td><td>{@value #DEFAULT_IPV6_PREFIX}</td></tr>
 * </table>
 *
 * @param responsesPerSecond answers per client network per second, 0 for no limit
 * @param slip               every how many limited answers one is sent truncated, 0 for never
 * @param ipv4PrefixLength   how many leading bits of an IPv4 address make the client network, 8-32
 * @param ipv6PrefixLength   how many leading bits of an IPv6 address make the client network, 16-128
 */
public record RateLimit(int responsesPerSecond, int slip, int ipv4PrefixLength, int ipv6PrefixLength) {
    static final int DEFAULT_RATE = 200;
    static final int DEFAULT_SLIP = 2;
    static final int DEFAULT_IPV4_PREFIX = 24;
    static final int DEFAULT_IPV6_PREFIX = 56;

    /** No limit, as for benchmarks (NSD's {@code rrl-ratelimit: 0}). */
    public static final RateLimit OFF = new RateLimit(0, DEFAULT_SLIP, DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX);

    public RateLimit {
        if (responsesPerSecond < 0) {
            throw new IllegalArgumentException("responsesPerSecond: " + responsesPerSecond + " (expected: >= 0, 0 = off)");
        }
        if (slip < 0) {
            throw new IllegalArgumentException("slip: " + slip + " (expected: >= 0)");
        }
        if (ipv4PrefixLength < 8 || ipv4PrefixLength > 32) {
            throw new IllegalArgumentException("ipv4PrefixLength: " + ipv4PrefixLength + " (expected: 8-32)");
        }
        if (ipv6PrefixLength < 16 || ipv6PrefixLength > 128) {
            throw new IllegalArgumentException("ipv6PrefixLength: " + ipv6PrefixLength + " (expected: 16-128)");
        }
    }

    /** NSD's defaults: 200 answers per second per /24 (/56), slip 2. */
    public static RateLimit nsdDefaults() {
        return new RateLimit(DEFAULT_RATE, DEFAULT_SLIP, DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX);
    }

    /** This limit with {@code responsesPerSecond} changed. */
    public RateLimit withResponsesPerSecond(int responsesPerSecond) {
        return new RateLimit(responsesPerSecond, slip, ipv4PrefixLength, ipv6PrefixLength);
    }

    /** This limit with {@code slip} changed. */
    public RateLimit withSlip(int slip) {
        return new RateLimit(responsesPerSecond, slip, ipv4PrefixLength, ipv6PrefixLength);
    }

    public boolean enabled() {
        return responsesPerSecond > 0;
    }
}
