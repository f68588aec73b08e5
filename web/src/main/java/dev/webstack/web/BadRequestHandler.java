package dev.webstack.web;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

/**
 * Answers the requests the codec could not read or {@link RequestFramingGuard} refused, and targets
 * no handler can use, then closes the
 * connection (the rest of the byte stream cannot be trusted to be framed right):
 * a request line over the limit → 414 (RFC 9110 section 15.5.15), headers over the limit → 431
 * (RFC 6585 section 5), an HTTP major version other than 1 → 505 (an HTTP/2 stream's request is
 * marked by {@link Http2Request}, which an HTTP/1.1 request line cannot imitate), any other decoding failure or a
 * target that is not a path → 400.
 */
@Sharable
final class BadRequestHandler extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg); // a piece of a streamed request body
            return;
        }
        HttpResponseStatus status = null;
        String why = null;
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            if (cause instanceof RequestFramingGuard.MalformedRequestException m) {
                status = m.status();
                why = m.getMessage();
            } else if (cause instanceof TooLongHttpLineException) {
                status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
                why = "The request line is longer than this server accepts.";
            } else if (cause instanceof TooLongHttpHeaderException) {
                status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
                why = "The request headers are larger than this server accepts.";
            } else {
                status = HttpResponseStatus.BAD_REQUEST;
                why = "The request is not valid HTTP/1.1.";
            }
        } else if (req.protocolVersion().majorVersion() != 1 && req.protocolVersion() != Http2Request.HTTP_2) {
            status = HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED;
            why = "This server speaks HTTP/1.1.";
        } else if (RequestPaths.path(req.uri()).isEmpty()
                && !(req.method().equals(HttpMethod.OPTIONS) && req.uri().equals("*"))) {
            status = HttpResponseStatus.BAD_REQUEST;
            why = "The request target is not a path.";
        }
        if (status == null) {
            ctx.fireChannelRead(req);
            return;
        }
        req.release();
        FullHttpResponse res = Responses.page(ctx.alloc(), status, why);
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res);
    }
}
