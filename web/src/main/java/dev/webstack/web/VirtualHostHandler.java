package dev.webstack.web;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Lets requests for the canonical host through and answers the others; see {@link VirtualHosts}. */
@Sharable
final class VirtualHostHandler extends ChannelInboundHandlerAdapter {
    private final VirtualHosts hosts;

    VirtualHostHandler(VirtualHosts hosts) {
        this.hosts = hosts;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg); // a piece of a streamed request body
            return;
        }
        VirtualHosts.Decision decision = hosts.decide(req, Tls.isSecure(ctx.channel()));
        if (decision instanceof VirtualHosts.Serve) {
            ctx.fireChannelRead(req);
            return;
        }
        req.release();
        FullHttpResponse res = switch (decision) {
            case VirtualHosts.Redirect r -> Responses.redirect(ctx.alloc(), HttpResponseStatus.MOVED_PERMANENTLY, r.location());
            case VirtualHosts.Misdirected m -> Responses.page(ctx.alloc(), HttpResponseStatus.MISDIRECTED_REQUEST,
                    "This server does not serve the site you asked for.");
            case VirtualHosts.BadHost b -> {
                FullHttpResponse bad = Responses.page(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "Bad request: " + b.reason() + ".");
                bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                yield bad;
            }
            case VirtualHosts.Serve s -> throw new AssertionError("handled above");
        };
        ctx.writeAndFlush(res);
    }
}
