package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One side of a WebSocket connection through the proxy, once the app server has switched
 * protocols (RFC 6455 section 4.2.2, RFC 9110 section 15.2.2): the client connection and its own
 * upstream connection drop their HTTP handlers and copy raw bytes to each other, as nginx does for
 * {@code proxy_set_header Upgrade}. Frames are not parsed here: the WebSocket is the app server's
 * business, this tier only carries it.
 *
 * <ul>
 *   <li>Backpressure: each connection is read only once what it last read has been written to the
 *       other (AUTO_READ off, read on write success, as in Netty's {@code example/proxy}), so a slow
 *       reader slows the sender down instead of filling memory.</li>
 *   <li>Closed together: when one side closes or fails, the other is closed once what was already
 *       written to it is flushed (a close frame just relayed still arrives).</li>
 *   <li>Idle: no byte either way for {@code web.readTimeout()} (default 30 s, nginx's
 *       {@code proxy_read_timeout}) closes both; WebSocket pings count as traffic. One timer on the
 *       client side sees both directions: what it reads goes up, what it writes came down.</li>
 *   <li>A graceful stop ({@link PipeliningHandler.Drain}) closes both at once: a WebSocket has no
 *       "current response" to finish and would hold the stop for its whole drain time; clients
 *       reconnect.</li>
 * </ul>
 * Both connections run on one event loop (the upstream connection was opened on the client's), so
 * nothing here needs a lock.
 */
final class WebSocketTunnel extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(WebSocketTunnel.class);

    private final Channel peer;

    private WebSocketTunnel(Channel peer) {
        this.peer = peer;
    }

    /**
     * Turns {@code client} and {@code upstream} into a tunnel. Call on their event loop, right after
     * the 101 was written to the client and with the upstream's 101 fully read: every handler of
     * both pipelines is removed, and the bytes their decoders still hold (frames that came in the
     * same read as the 101) go through the tunnel first.
     */
    static void join(Channel client, Channel upstream, Duration idleTimeout) {
        client.config().setAutoRead(false);
        upstream.config().setAutoRead(false);
        ChannelPipeline c = client.pipeline();
        List<String> clientHttp = handlerNames(c);
        c.addLast("tunnelIdle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS))
                .addLast("tunnelClose", PipeliningHandler.CloseOnIdleOrDrain.INSTANCE)
                .addLast("tunnel", new WebSocketTunnel(upstream));
        removeAll(c, clientHttp);
        ChannelPipeline u = upstream.pipeline();
        List<String> upstreamHttp = handlerNames(u);
        u.addLast("tunnelClose", PipeliningHandler.CloseOnIdleOrDrain.INSTANCE)
                .addLast("tunnel", new WebSocketTunnel(client));
        removeAll(u, upstreamHttp);
        client.read();
        upstream.read();
    }

    private static List<String> handlerNames(ChannelPipeline p) {
        return new ArrayList<>(p.toMap().keySet());
    }

    /**
     * Removes the handlers last to first: a decoder hands the bytes it still holds to the handler
     * after it, so the later decoders' (the earlier bytes) reach the tunnel first.
     */
    private static void removeAll(ChannelPipeline p, List<String> names) {
        Collections.reverse(names);
        for (String name : names) {
            if (p.context(name) != null) {
                p.remove(name);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            // What a removed HTTP decoder still had in hand (the end of the 101): not WebSocket bytes.
            ReferenceCountUtil.release(msg);
            return;
        }
        peer.writeAndFlush(bytes).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                ctx.channel().read();
            } else {
                log.debug("websocket {}: {}", peer.remoteAddress(), String.valueOf(f.cause()));
                // The peer's channelInactive closes this side.
                f.channel().close();
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("websocket {}: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.warn("websocket {}: closing after an unexpected error", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
