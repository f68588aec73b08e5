package dev.webstack.web;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;

/**
 * The last handler of an upstream connection: hands what the app server sends to the exchange the
 * connection currently serves. A connection serving no exchange (idle in the pool) that receives
 * anything, goes idle for too long or fails is closed.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    // No volatile needed: the connection and its exchanges share one event loop.
    private ProxyExchange exchange;

    void bind(ProxyExchange e) {
        exchange = e;
    }

    void unbind() {
        exchange = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ProxyExchange e = exchange;
        if (e == null || !(msg instanceof HttpObject obj)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (obj.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            e.upstreamFailed(obj.decoderResult().cause());
            return;
        }
        if (msg instanceof HttpResponse res) {
            e.onResponse(res);
        }
        if (msg instanceof HttpContent content) {
            e.onContent(content);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ProxyExchange e = exchange;
        if (e != null) {
            e.upstreamReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ProxyExchange e = exchange;
        if (e != null) {
            e.upstreamFailed(new IOException("the application server closed the connection"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // While an exchange runs, its own read timeout applies.
        if (evt instanceof IdleStateEvent && exchange == null) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ProxyExchange e = exchange;
        if (e != null) {
            e.upstreamFailed(cause);
        }
        ctx.close();
    }
}
