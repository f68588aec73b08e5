package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The answer to one query over UDP, whichever path read it ({@link UdpBatchHandle} on epoll,
 * {@link UdpHandler} otherwise). First the {@link RateLimiter} decides whether the answer is sent,
 * sent truncated or dropped (TCP is never limited); an IXFR from a secondary allowed to transfer
 * is answered by {@link ZoneTransfer#overUdp}; every other query by the current {@link Responder}.
 */
final class UdpAnswers {
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
