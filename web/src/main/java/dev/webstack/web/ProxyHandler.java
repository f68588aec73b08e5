package dev.webstack.web;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a client connection: sends what the static files did not answer to an app
 * server, chosen by the {@link UpstreamGroup}, and lets a {@link ProxyExchange} carry the response back. With no
 * app server configured every such request is a 502. A WebSocket handshake that the app server
 * accepts turns the connection into a {@link WebSocketTunnel}, which replaces this handler.
 */
final class ProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    // Switched by a reload, on this channel's event loop; a running exchange keeps its own.
    private UpstreamGroup upstreams;
    private UpstreamPool pool;
    private Duration readTimeout;
    // One exchange at a time per connection (PipeliningHandler); the last one, possibly finished.
    private ProxyExchange exchange;
    private ExchangeTimer timer;
    // The client's address for X-Forwarded-For, formatted on the connection's first request.
    private String clientIp;
    // The connection's access log, found on its first request: what it records of the app servers.
    private AccessLogHandler accessLog;

    ProxyHandler(UpstreamGroup upstreams, UpstreamPool pool, Duration readTimeout) {
        this.upstreams = upstreams;
        this.pool = pool;
        this.readTimeout = readTimeout;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            // A piece of a streamed request body: the current exchange's, or of a request answered without it.
            if (msg instanceof HttpContent content && exchange != null) {
                exchange.onRequestContent(content);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (upstreams.isEmpty()) {
            req.release();
            ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.BAD_GATEWAY,
                    "The application server is not answering: none is configured."));
            return;
        }
        boolean http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        boolean webSocket = ProxyHeaders.isWebSocketUpgrade(req);
        if (clientIp == null) {
            clientIp = AccessLogHandler.clientIp(ctx.channel().remoteAddress());
            accessLog = ctx.pipeline().get(AccessLogHandler.class);
        }
        ProxyHeaders.toUpstream(req, clientIp, Tls.isSecure(ctx.channel()), Tls.clientCertificate(ctx.channel()), webSocket);
        if (timer == null) {
            timer = new ExchangeTimer(ctx.executor());
        }
        exchange = new ProxyExchange(ctx, req, http10, webSocket, upstreams, pool, readTimeout, timer,
                accessLog == null ? null : accessLog.upstreamTrace());
        exchange.start();
    }

    /** Sends the next requests with these settings (reload). Call on the channel's event loop. */
    void use(UpstreamGroup nextUpstreams, UpstreamPool nextPool, Duration nextReadTimeout) {
        upstreams = nextUpstreams;
        pool = nextPool;
        readTimeout = nextReadTimeout;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // The connection closed, or became a WebSocket tunnel.
        if (timer != null) {
            timer.stop();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.clientClosed();
            exchange = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A premature closure: the client left in the middle of a request, or a refused request
        // (RequestFramingGuard) left the aggregator with a part of it.
        if (cause instanceof IOException || cause instanceof PrematureChannelClosureException) {
            log.debug("client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.warn("client {}: closing after an unexpected error", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
