package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One datagram in, at most one datagram back to its sender (RFC 1035 section 4.2.1). Errors never
 * close the channel: the UDP socket is shared by every client.
 *
 * <p>Before answering, the {@link RateLimiter} decides whether the answer is sent, sent truncated
 * or dropped (TCP is never limited). Answers are written as the datagrams are read and flushed once the socket has no more to
 * read, so that one batch of queries goes out with few system calls (sendmmsg on epoll).
 */
@ChannelHandler.Sharable
final class UdpHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private static final Logger log = LoggerFactory.getLogger(UdpHandler.class);

    private final Supplier<Responder> responder;
    private final Supplier<RateLimiter> limiter;

    /**
     * @param responder the current zones' responder, read once per query (it changes on reload)
     * @param limiter   the response rate limit, shared by every UDP socket, read once per query (it changes on reload)
     */
    UdpHandler(Supplier<Responder> responder, Supplier<RateLimiter> limiter) {
        this.responder = responder;
        this.limiter = limiter;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        ByteBuf response = switch (limiter.get().check(packet.sender().getAddress())) {
            case SEND -> responder.get().respond(packet.content(), QueryHandler.Transport.UDP, ctx.alloc());
            case SLIP -> responder.get().truncated(packet.content(), ctx.alloc());
            case DROP -> null;
        };
        if (response != null) {
            ctx.write(new DatagramPacket(response, packet.sender()), ctx.voidPromise());
        }
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
