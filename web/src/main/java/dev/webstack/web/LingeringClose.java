package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection whose client may still be sending, as nginx's lingering close does: after a
 * refused request (400, 413, 414, 431, ...), a body the answer did not read, an
 * {@code Expect: 100-continue} body that was not invited, or requests pipelined behind the last
 * answer.
 *
 * <p>Closing a TCP socket with received data unread makes the kernel send a reset (RFC 1122 section
 * 4.2.2.13) and drop whatever it had not sent yet. A client still writing its body then fails on
 * that write with "connection reset", and most clients (browsers, curl) never read the 413 that
 * was sent. So the answer is followed by a FIN (the output shut down, after TLS's close_notify),
 * and what the client still sends is read and thrown away, at the head of the pipeline, until the
 * client closes its side, or sends nothing for the lingering timeout, or the lingering time has
 * passed ({@link WebConfig.Limits#lingeringTimeout()}, {@link WebConfig.Limits#lingeringTime()}: 5 s and 30 s,
 * nginx's defaults); then the connection is closed. A graceful stop
 * ({@link PipeliningHandler.Drain}) closes it at once. An HTTP/2 connection lingers the same way
 * when its frame codec closes it ({@link Http2Shutdown.Linger}).
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
    private final long timeoutNanos;
    private final long deadline;
    // No volatile needed: one channel, one event loop.
    private long lastRead = System.nanoTime();
    private ScheduledFuture<?> timer;

    private LingeringClose(WebConfig.Limits limits) {
        this.timeoutNanos = limits.lingeringTimeout().toNanos();
        this.deadline = lastRead + limits.lingeringTime().toNanos();
    }

    /**
     * Closes {@code ch} after lingering as the class comment says; at once when it is not a TCP
     * connection (an HTTP/2 stream) or lingering is off. Call on the channel's event loop, once its
     * last answer is written.
     */
    static void close(Channel ch, WebConfig.Limits limits) {
        if (!linger(ch, limits)) {
            ch.close();
        }
    }

    /**
     * Starts lingering on {@code ch}, or finds it lingering already; false when it does not apply
     * (not a TCP connection, closed already, lingering off), and the caller closes the connection.
     * Call on the channel's event loop.
     */
    static boolean linger(Channel ch, WebConfig.Limits limits) {
        if (!(ch instanceof DuplexChannel duplex) || !ch.isActive()
                || limits.lingeringTimeout().isZero() || limits.lingeringTime().isZero()) {
            return false;
        }
        ChannelPipeline p = ch.pipeline();
        if (p.get(LingeringClose.class) != null) {
            return true;
        }
        p.addFirst("linger", new LingeringClose(limits));
        ch.config().setAutoRead(true);
        SslHandler tls = p.get(SslHandler.class);
        if (tls == null) {
            shutdownOutput(duplex);
        } else {
            tls.closeOutbound().addListener(f -> shutdownOutput(duplex));
        }
        return true;
    }

    private static void shutdownOutput(DuplexChannel ch) {
        ch.shutdownOutput().addListener(f -> {
            if (!f.isSuccess()) {
                ch.close();
            }
        });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> check(ctx), Math.min(timeoutNanos, deadline - lastRead), TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        long due = Math.min(lastRead + timeoutNanos, deadline);
        long left = due - System.nanoTime();
        if (left <= 0) {
            ctx.close();
        } else {
            timer = ctx.executor().schedule(() -> check(ctx), left, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        lastRead = System.nanoTime();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Nothing was handed on: nothing to complete behind.
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == PipeliningHandler.Drain.INSTANCE || evt instanceof ChannelInputShutdownEvent) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a reset from the client, most likely: nothing is left to answer
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        ctx.fireChannelInactive();
    }
}
