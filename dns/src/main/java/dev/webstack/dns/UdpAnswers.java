package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to one query over UDP, whichever path read it ({@link UdpRingHandle} on io_uring,
 * {@link UdpBatchHandle} on epoll, {@link UdpHandler} otherwise). First the {@link RateLimiter} decides whether the answer is sent,
 * sent truncated or dropped (TCP is never limited); an IXFR from a secondary allowed to transfer
 * is answered by {@link ZoneTransfer#overUdp}; every other query by the current {@link Responder}.
 */
final class UdpAnswers {
    private static final Logger log = LoggerFactory.getLogger(UdpAnswers.class);
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    private final Supplier<Responder> responder;
    private final Supplier<RateLimiter> limiter;
    private final ZoneTransfer transfers;
    private final DnsCounters counters;

    /**
     * @param responder the current zones' responder, read once per query (it changes on reload)
     * @param limiter   the response rate limit, shared by every UDP socket, read once per query (it changes on reload)
     * @param transfers who may transfer the zones, here by IXFR over UDP (RFC 1995 section 2)
     * @param counters  what is counted for {@code /metrics}
     */
    UdpAnswers(Supplier<Responder> responder, Supplier<RateLimiter> limiter, ZoneTransfer transfers, DnsCounters counters) {
        this.responder = responder;
        this.limiter = limiter;
        this.transfers = transfers;
        this.counters = counters;
    }

    /** The rate limit in force (it changes on reload), read once per query: its verdict is what {@link #answer} takes. */
    RateLimiter limiter() {
        return limiter.get();
    }

    /**
     * The datagram to send back for {@code query}, or null for none.
     *
     * @param verdict the rate limit's verdict on this answer ({@link RateLimiter#check})
     * @param client  the client's address; may be null unless {@link #needsClient} says otherwise
     */
    ByteBuf answer(ByteBuf query, RateLimiter.Verdict verdict, InetAddress client, ByteBufAllocator alloc) {
        return switch (verdict) {
            case SEND -> {
                ByteBuf response = respond(query, client, alloc);
                counters.answered(DnsCounters.Transport.UDP, response);
                yield response;
            }
            case SLIP -> {
                counters.rateLimited(true);
                yield responder.get().truncated(query, alloc);
            }
            case DROP -> {
                counters.rateLimited(false);
                yield null;
            }
        };
    }

    /**
     * Whether {@link #answer} needs the client's address for {@code query}: an IXFR while some
     * address may transfer. A reader that makes no address object per query makes one then only.
     */
    boolean needsClient(ByteBuf query) {
        return transfers.allowsAny() && ZoneTransfer.asksIxfr(query);
    }

    /**
     * The answer to {@code query}, a datagram read by one of our handles ({@link UdpBatchHandle},
     * {@link UdpRingHandle}) whose sender's {@code struct sockaddr} is at {@code name} in
     * {@code memory}: the rate limit's verdict taken there, without an address object. The answer
     * is in a buffer with a native address, for {@code sendmmsg}; null for none (no sender address,
     * limited, or a query the responder could not handle: silence, as on Netty's path).
     *
     * @param ipv6 16 bytes of room for an IPv6 address, reused from query to query
     */
    ByteBuf answer(ByteBuf query, ByteBuf memory, int name, byte[] ipv6, ByteBufAllocator alloc) {
        ByteBuf response = null;
        try {
            RateLimiter limiter = limiter();
            RateLimiter.Verdict verdict = switch (memory.getUnsignedShortLE(name)) {
                case AF_INET -> limiter.check(limiter.ipv4Network(memory.getInt(name + 4)));
                case AF_INET6 -> isV4Mapped(memory, name)
                        ? limiter.check(limiter.ipv4Network(memory.getInt(name + 20)))
                        : limiter.check(limiter.ipv6Network(ipv6(memory, name, ipv6)));
                default -> null; // no sender address: nowhere to answer
            };
            if (verdict == null) {
                return null;
            }
            InetAddress client = needsClient(query) ? client(memory, name, ipv6) : null;
            response = answer(query, verdict, client, alloc);
            if (response != null && !response.hasMemoryAddress()) {
                // An IXFR answer is built as a byte array.
                ByteBuf direct = alloc.directBuffer(response.readableBytes()).writeBytes(response);
                response.release();
                response = direct;
            }
            return response;
        } catch (RuntimeException | UnknownHostException e) {
            log.debug("udp: {}", e.toString());
            if (response != null) {
                response.release();
            }
            return null;
        }
    }

    /** Whether the {@code struct sockaddr_in6} at {@code name} holds an IPv4 address mapped ({@code ::ffff:a.b.c.d}), as a dual-stack socket gives. */
    private static boolean isV4Mapped(ByteBuf memory, int name) {
        return memory.getLong(name + 8) == 0 && memory.getInt(name + 16) == 0x0000_FFFF;
    }

    private static byte[] ipv6(ByteBuf memory, int name, byte[] into) {
        memory.getBytes(name + 8, into);
        return into;
    }

    /** The sender at {@code name} as an address object (made only for the rare query that needs one). */
    private static InetAddress client(ByteBuf memory, int name, byte[] ipv6) throws UnknownHostException {
        if (memory.getUnsignedShortLE(name) == AF_INET) {
            byte[] ipv4 = new byte[4];
            memory.getBytes(name + 4, ipv4);
            return InetAddress.getByAddress(ipv4);
        }
        return InetAddress.getByAddress(ipv6(memory, name, ipv6).clone()); // a mapped IPv4 address comes back as an Inet4Address
    }

    private ByteBuf respond(ByteBuf query, InetAddress client, ByteBufAllocator alloc) {
        Responder current = responder.get();
        // Only an IXFR from a client allowed to transfer (a few secondaries) is parsed here.
        if (client != null && transfers.allows(client) && ZoneTransfer.asksIxfr(query)) {
            Optional<byte[]> ixfr = transfers.overUdp(ByteBufUtil.getBytes(query), client, current.zones(), current.slowPath());
            if (ixfr.isPresent()) {
                counters.transferred(true);
                return Unpooled.wrappedBuffer(ixfr.get());
            }
        }
        return current.respond(query, QueryHandler.Transport.UDP, alloc);
    }
}
