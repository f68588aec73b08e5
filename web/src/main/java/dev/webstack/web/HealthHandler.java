package dev.webstack.web;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@value #PATH} answers {@code 200 ok} for any Host: the supervisor's health check of this tier.
 * It never reaches the app servers, so it says the web tier is up, not that the site works.
 * Every other path under {@value #INTERNAL_PREFIX} is answered 404 here: those are the app
 * servers' own endpoints ({@code /-/ready}, {@code /-/live}), for the supervisor, not the public.
 */
@Sharable
final class HealthHandler extends ChannelInboundHandlerAdapter {
    static final String PATH = "/-/health";
    static final String INTERNAL_PREFIX = "/-/";

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg); // a piece of a streamed request body
            return;
        }
        String path = RequestPaths.path(req.uri()).orElse("");
        if (!path.startsWith(INTERNAL_PREFIX)) {
            ctx.fireChannelRead(req);
            return;
        }
        req.release();
        if (!path.equals(PATH)) {
            ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "There is nothing here."));
            return;
        }
        FullHttpResponse res;
        if (req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD)) {
            res = Responses.text(ctx.alloc(), HttpResponseStatus.OK, "ok\n");
        } else {
            res = Responses.page(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED, "The health check answers GET and HEAD.");
            res.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        }
        ctx.writeAndFlush(res);
    }
}
