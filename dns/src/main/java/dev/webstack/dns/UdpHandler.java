package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One datagram in, at most one datagram back to its sender (RFC 1035 section 4.2.1). Errors never
 * close the channel: the UDP socket is shared by every client.
 *
 * <p>Before answering, the {@link RateLimiter} decides whether the answer is sent, sent truncated
 * or dropped (TCP is never limited). An IXFR from a secondary allowed to transfer is answered by
 * {@link ZoneTransfer#overUdp}. Answers are written as the datagrams are read and flushed once the socket has no more to
 * read, so that one batch of queries goes out with few system calls (sendmmsg on epoll).
 */
@ChannelHandler.Sharable
final class UdpHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private static final Logger log = LoggerFactory.getLogger(UdpHandler.class);

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
    UdpHandler(Supplier<Responder> responder, Supplier<RateLimiter> limiter, ZoneTransfer transfers, DnsCounters counters) {
        this.responder = responder;
        this.limiter = limiter;
        this.transfers = transfers;
        this.counters = counters;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        InetAddress client = packet.sender().getAddress();
        ByteBuf response;
        switch (limiter.get().check(client)) {
            case SEND -> {
                response = answer(packet.content(), client, ctx);
                counters.answered(DnsCounters.Transport.UDP, response);
            }
            case SLIP -> {
                response = responder.get().truncated(packet.content(), ctx.alloc());
                counters.rateLimited(true);
            }
            default -> {
                response = null;
                counters.rateLimited(false);
            }
        }
        if (response != null) {
            ctx.write(new DatagramPacket(response, packet.sender()), ctx.voidPromise());
        }
    }

    private ByteBuf answer(ByteBuf query, InetAddress client, ChannelHandlerContext ctx) {
        Responder current = responder.get();
        // Only an IXFR from a client allowed to transfer (a few secondaries) is parsed here.
        if (transfers.allows(client) && ZoneTransfer.asksIxfr(query)) {
            Optional<byte[]> ixfr = transfers.overUdp(ByteBufUtil.getBytes(query), client, current.zones(), current.slowPath());
            if (ixfr.isPresent()) {
                counters.transferred(true);
                return Unpooled.wrappedBuffer(ixfr.get());
            }
        }
        return current.respond(query, QueryHandler.Transport.UDP, ctx.alloc());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("udp: {}", cause.toString());
    }
}
