package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's DNS messages, already split by the 2-byte length prefix (RFC 1035 section
 * 4.2.2). Several queries may arrive on a connection, also back to back before any answer (RFC
 * 7766 section 6.2.1); they are answered in order. The connection is closed when it has been idle
 * for the time given to the pipeline's {@code IdleStateHandler}, on a message that cannot even be
 * answered with an error, and on any I/O error. Reading pauses while the client does not read its
 * answers, so that a slow reader cannot make the server buffer without bound.
 */
final class TcpHandler extends SimpleChannelInboundHandler<ByteBuf> {
    private static final Logger log = LoggerFactory.getLogger(TcpHandler.class);

    private final Supplier<Responder> responder;
    private final ZoneTransfer transfers;
    private final DnsCounters counters;

    /**
     * @param responder the current zones' responder, read once per query (it changes on reload)
     * @param transfers who may transfer the zones (AXFR, IXFR)
     * @param counters  what is counted for {@code /metrics}
     */
    TcpHandler(Supplier<Responder> responder, ZoneTransfer transfers, DnsCounters counters) {
        this.responder = responder;
        this.transfers = transfers;
        this.counters = counters;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
        Responder current = responder.get();
        // Only a client allowed to transfer has its queries parsed for AXFR and IXFR: a few secondaries.
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress peer && transfers.allows(peer.getAddress())) {
            Optional<List<byte[]>> messages = transfers.transfer(ByteBufUtil.getBytes(frame), peer.getAddress(), current.zones(), current.slowPath());
            if (messages.isPresent()) {
                // Counted as a query too, by its first message's rcode, as an IXFR over UDP is.
                counters.answered(DnsCounters.Transport.TCP, Unpooled.wrappedBuffer(messages.get().getFirst()));
                counters.transferred(ZoneTransfer.asksIxfr(frame));
                messages.get().forEach(m -> ctx.write(Unpooled.wrappedBuffer(m)));
                return;
            }
        }
        ByteBuf response = current.respond(frame, QueryHandler.Transport.TCP, ctx.alloc());
        counters.answered(DnsCounters.Transport.TCP, response);
        if (response == null) {
            ctx.flush(); // the answers to earlier queries first
            ctx.close();
        } else {
            ctx.write(response);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent) {
            log.debug("tcp {}: idle, closing", ctx.channel().remoteAddress());
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("tcp {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
