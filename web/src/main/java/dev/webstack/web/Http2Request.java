package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;

/**
 * The start of an HTTP/2 stream's request handlers, right after the frame converter: what
 * {@link RequestFramingGuard} does for HTTP/1.1 that still applies. The request is marked
 * {@code HTTP/2.0} (the access log says so, as nginx's does; the app server is still spoken to in
 * HTTP/1.1). A request whose method and path are longer than {@link WebConfig.Limits#maxRequestLine()}
 * allows a request line is answered 414, one with more header fields than
 * {@link WebConfig.Limits#maxHeaders()} 431, and its stream reset, as HTTP/1.1's (the header list's size
 * is the frame codec's, announced as {@code SETTINGS_MAX_HEADER_LIST_SIZE}). A body over the limit resets the stream: answered 413
 * first when its {@code content-length} says so, before anything is handed on; reset alone when
 * its DATA frames add up to more after the request went on (the proxy then abandons the upstream
 * request, as with a client that goes away). The frame codec itself checks
 * the rest (header names and values, a declared length against the DATA received, RFC 9113
 * section 8.1.1).
 */
final class Http2Request extends ChannelInboundHandlerAdapter {
    static final HttpVersion HTTP_2 = HttpVersion.valueOf("HTTP/2.0");
    private static final String BODY_TOO_LARGE = "The request body is larger than this server takes.";

    private final long maxBody;
    private final int maxHeaders;
    private final int maxRequestLine;
    private long received;
    private boolean refused;
    private boolean forwarded;

    Http2Request(WebConfig.Limits limits) {
        this.maxBody = limits.maxBody();
        this.maxHeaders = limits.maxHeaders();
        this.maxRequestLine = limits.maxRequestLine();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest req) {
            req.setProtocolVersion(HTTP_2);
            // The request line HTTP/1.1 would send: "METHOD PATH HTTP/1.1".
            if (req.method().name().length() + 1 + req.uri().length() + 9 > maxRequestLine) {
                refuse(ctx, msg, HttpResponseStatus.REQUEST_URI_TOO_LONG, "The request line is longer than this server accepts.");
                return;
            }
            if (req.headers().size() > maxHeaders) {
                refuse(ctx, msg, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "The request has more header fields than this server accepts.");
                return;
            }
            if (HttpUtil.getContentLength(req, -1L) > maxBody) {
                refuse(ctx, msg, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, BODY_TOO_LARGE);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            received += content.content().readableBytes();
            if (received > maxBody) {
                refuse(ctx, msg, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, BODY_TOO_LARGE);
                return;
            }
        }
        forwarded = true;
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx, Object msg, HttpResponseStatus status, String why) {
        refused = true;
        ReferenceCountUtil.release(msg);
        if (forwarded) {
            ctx.close();
            return;
        }
        FullHttpResponse res = Responses.page(ctx.alloc(), status, why);
        res.headers().remove(HttpHeaderNames.CONNECTION);
        // Written from here, past the handlers behind (nothing was handed to them yet). Then the
        // client is told to stop sending without an error (RFC 9113 section 8.1), so that it reads
        // the answer rather than a cancelled stream.
        // The reset only once the answer is out: written together, the reset frame would overtake
        // the answer's frames, which wait for the stream's flow-control window.
        ctx.writeAndFlush(res).addListener(f ->
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR)).addListener(ChannelFutureListener.CLOSE));
    }
}
