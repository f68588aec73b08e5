package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * How an HTTP/2 connection ends when the server ends it: idle, after its
 * {@code web.keepalive-requests}th stream or its {@code web.keepalive-time}, or on a graceful stop
 * ({@link PipeliningHandler.Drain}).
 *
 * <ul>
 *   <li>{@link GoAway}: two GOAWAY frames, as RFC 9113 section 6.8 advises a server shutting down
 *       gracefully. The first one names the largest stream id (2<sup>31</sup>-1), so that a stream the
 *       client opened before it saw the frame is still served, not refused; a PING follows, and once
 *       its answer is back (one round trip: the client has seen the first GOAWAY), or after
 *       {@value #PING_WAIT_MS} ms, the second GOAWAY names the last stream actually opened. Then the
 *       frame codec waits for the open streams to finish, and closes.</li>
 *   <li>{@link Linger}: that close, and any other of the frame codec's (an error, a client's GOAWAY),
 *       first waits up to {@value #CLOSE_DELAY_MS} ms for the client to close the connection itself:
 *       a client that meets the end of the connection right behind the last answer may drop that
 *       answer (the JDK's client did, about once in 2,000 such closes). Then it lingers as an
 *       HTTP/1.x connection does ({@link LingeringClose}, nginx's lingering close, which nginx
 *       applies to HTTP/2 too): TLS's close_notify and a FIN go out, and what the client still sends
 *       (a WINDOW_UPDATE, a PING's answer) is read and dropped until it closes its side, since a
 *       socket closed with data unread sends a reset.</li>
 * </ul>
 */
final class Http2Shutdown {
    /** Longest wait for the PING's answer before the second GOAWAY. */
    static final long PING_WAIT_MS = 1_000;
    /** Longest wait, once the streams are done, for the client to close the connection before the server does. */
    static final long CLOSE_DELAY_MS = 1_000;
    // The PING's payload: tells our PING's answer from others (Netty answers the client's itself).
    private static final long PING_CONTENT = 0x7765627374616b6bL;

    private Http2Shutdown() {}

    /** At the end of the connection's pipeline: turns an idle timeout or a {@link PipeliningHandler.Drain} into the two GOAWAYs. */
    static final class GoAway extends ChannelInboundHandlerAdapter {
        // No volatile needed: one channel, one event loop.
        private boolean first;
        private boolean second;
        private ScheduledFuture<?> wait;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent || evt == PipeliningHandler.Drain.INSTANCE) {
                begin(ctx);
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        private void begin(ChannelHandlerContext ctx) {
            if (first) {
                return;
            }
            first = true;
            // The timer first: a PING whose write fails at once ends the wait from its listener.
            wait = ctx.executor().schedule(() -> end(ctx), PING_WAIT_MS, TimeUnit.MILLISECONDS);
            DefaultHttp2GoAwayFrame goAway = new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR);
            goAway.setExtraStreamIds(Integer.MAX_VALUE); // the frame codec caps the id at 2^31-1
            ctx.write(goAway);
            ctx.writeAndFlush(new DefaultHttp2PingFrame(PING_CONTENT)).addListener(f -> {
                if (!f.isSuccess()) {
                    end(ctx);
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (first && msg instanceof Http2PingFrame ping && ping.ack() && ping.content() == PING_CONTENT) {
                end(ctx);
                return;
            }
            ctx.fireChannelRead(msg);
        }

        /** The second GOAWAY, with the last stream opened; then the codec's graceful close. */
        private void end(ChannelHandlerContext ctx) {
            if (second) {
                return;
            }
            second = true;
            wait.cancel(false);
            if (ctx.channel().isActive()) {
                ctx.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (wait != null) {
                wait.cancel(false);
            }
            ctx.fireChannelInactive();
        }
    }

    /**
     * Before the frame codec (between it and TLS): the codec's close of the connection, once its
     * streams are done, waits up to {@value #CLOSE_DELAY_MS} ms for the client to close first, then
     * lingers ({@link LingeringClose}) with the limits of the moment.
     */
    static final class Linger extends ChannelDuplexHandler {
        private final Supplier<WebConfig.Limits> limits;
        // No volatile needed: one channel, one event loop.
        private boolean closing;
        private ScheduledFuture<?> delay;

        Linger(Supplier<WebConfig.Limits> limits) {
            this.limits = limits;
        }

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            if (closing || !ctx.channel().isActive()) {
                ctx.close(promise); // a second close (a forced stop, the lingering's end) goes through
                return;
            }
            closing = true;
            ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
            ctx.channel().config().setAutoRead(true);
            delay = ctx.executor().schedule(() -> linger(ctx), CLOSE_DELAY_MS, TimeUnit.MILLISECONDS);
        }

        private void linger(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive() && !LingeringClose.linger(ctx.channel(), limits.get())) {
                ctx.close();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (closing && (evt instanceof ChannelInputShutdownEvent || evt == PipeliningHandler.Drain.INSTANCE)) {
                delay.cancel(false);
                ctx.close(); // the client closed its side, or the server stops: nothing left to wait for
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (delay != null) {
                delay.cancel(false);
            }
            ctx.fireChannelInactive();
        }
    }
}
