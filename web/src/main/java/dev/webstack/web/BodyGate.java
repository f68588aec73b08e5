package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Turns the codec's pieces into what the handlers behind take: a request whose body is at most
 * {@value #AGGREGATE_UP_TO} bytes (most requests have none) as one {@link FullHttpRequest}; a
 * larger body as a {@link StreamedRequest} (headers only) followed by its {@link HttpContent}
 * pieces as they arrive, so that an upload of any size goes through in constant memory (the proxy
 * reads the next piece only once the previous one was written to the app server).
 *
 * <p>A chunked body is gathered until it passes {@value #AGGREGATE_UP_TO} bytes, so that a small
 * malformed one is refused before anything is forwarded. A larger one streams from then on; if its
 * framing breaks later, the upstream connection is closed in the middle of the body (the app server
 * sees a truncated request, never a second, smuggled one) and the client is answered 400.
 *
 * <p>A request with {@code Expect: 100-continue} and a body streams whatever its size, and its
 * 100 (Continue) (RFC 9110 section 10.1.1) goes out only when a handler takes the body
 * ({@link StreamedRequest#sendContinue()}: the proxy). A request answered without its body (a
 * static file's 405, a 401, 403, a redirect) is answered at once, as nginx does, and the connection
 * then closes ({@link PipeliningHandler}), since the client may or may not send the body it was
 * not invited to. A body over the limit never gets that far ({@link RequestFramingGuard} answers 413
 * on the headers).
 */
final class BodyGate extends ChannelInboundHandlerAdapter {
    /** Bodies up to this size are gathered into the request; larger ones stream. */
    static final int AGGREGATE_UP_TO = 64 * 1024;

    /**
     * A request as the gate hands it on, with the head it was made from: the codec's
     * {@link ServerCodec.WireRequest}, which counts the bytes the request took on the wire, or
     * (HTTP/2) the stream's converted head.
     */
    static class GatheredRequest extends DefaultFullHttpRequest {
        private final HttpRequest head;

        GatheredRequest(HttpRequest head, ByteBuf content, HttpHeaders trailers) {
            super(head.protocolVersion(), head.method(), head.uri(), content, head.headers(), trailers);
            setDecoderResult(head.decoderResult());
            this.head = head instanceof GatheredRequest g ? g.head : head;
        }

        HttpRequest head() {
            return head;
        }
    }

    /** A request whose body follows as {@link HttpContent} messages, the last a {@link LastHttpContent}. */
    static final class StreamedRequest extends GatheredRequest {
        private final boolean chunked;
        private final long contentLength;
        // Where the 100 (Continue) the client waits for is written from; null once sent, or when none is owed.
        private ChannelHandlerContext owesContinue;

        StreamedRequest(HttpRequest head, boolean chunked, long contentLength) {
            this(head, chunked, contentLength, null);
        }

        StreamedRequest(HttpRequest head, boolean chunked, long contentLength, ChannelHandlerContext owesContinue) {
            super(head, Unpooled.EMPTY_BUFFER, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
            this.chunked = chunked;
            this.contentLength = contentLength;
            this.owesContinue = owesContinue;
        }

        /**
         * Invites the body: writes the 100 (Continue) the client waits for, once, from the body
         * gate's place in the pipeline (an interim response, which the handlers behind it never
         * see). Does nothing when none is owed. Call on the channel's event loop.
         */
        void sendContinue() {
            ChannelHandlerContext ctx = owesContinue;
            if (ctx != null) {
                owesContinue = null;
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
            }
        }

        /** Whether the client still waits for a 100 (Continue) before it sends the body. */
        boolean awaitsContinue() {
            return owesContinue != null;
        }

        boolean chunked() {
            return chunked;
        }

        /** The declared length; meaningful when not {@link #chunked()}. */
        long contentLength() {
            return contentLength;
        }
    }

    // No volatile needed: one channel, one event loop.
    private HttpRequest head;
    private CompositeByteBuf body;
    private boolean streaming;
    private boolean discarding;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest) {
            ctx.fireChannelRead(msg);
        } else if (msg instanceof HttpRequest req) {
            onHead(ctx, req);
        } else if (msg instanceof HttpContent content) {
            onContent(ctx, content);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest req) {
        if (req.decoderResult().isFailure()) {
            discarding = true;
            ctx.fireChannelRead(full(req, Unpooled.EMPTY_BUFFER, null));
            return;
        }
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        long length = HttpUtil.getContentLength(req, 0L);
        if (HttpUtil.is100ContinueExpected(req)) {
            // The expectation is this hop's (the app server is not asked again); without a body there is nothing to invite.
            req.headers().remove(HttpHeaderNames.EXPECT);
            if (chunked || length > 0) {
                streaming = true;
                ctx.fireChannelRead(new StreamedRequest(req, chunked, chunked ? -1 : length, ctx));
                return;
            }
        }
        if (!chunked && length > AGGREGATE_UP_TO) {
            streaming = true;
            ctx.fireChannelRead(new StreamedRequest(req, false, length));
            return;
        }
        // A chunked body is gathered too, until it turns out larger than AGGREGATE_UP_TO: a
        // malformed small one is refused before any of it goes anywhere.
        head = req;
        body = null; // allocated with the first non-empty piece: most requests have none
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (streaming) {
            streaming = !last;
            ctx.fireChannelRead(content);
            return;
        }
        if (content.decoderResult().isFailure() && head != null) {
            // The body broke (RequestFramingGuard): the gathered request is dropped, never handed on.
            if (body != null) {
                ReferenceCountUtil.release(body);
            }
            head = null;
            body = null;
            content.release();
            return;
        }
        if (discarding || head == null) {
            discarding &= !last;
            content.release();
            return;
        }
        ByteBuf piece = content.content();
        if (piece.isReadable()) {
            if (body == null) {
                body = ctx.alloc().compositeBuffer();
            }
            body.addComponent(true, piece.retain());
        }
        if (last) {
            FullHttpRequest req = full(head, body == null ? Unpooled.EMPTY_BUFFER : body, (LastHttpContent) content);
            content.release();
            head = null;
            body = null;
            ctx.fireChannelRead(req);
            return;
        }
        content.release();
        if (body != null && body.readableBytes() > AGGREGATE_UP_TO) {
            // Too large to gather: from here on the body streams, starting with what was gathered.
            streaming = true;
            ByteBuf gathered = body;
            HttpRequest req = head;
            head = null;
            body = null;
            ctx.fireChannelRead(new StreamedRequest(req, true, -1));
            ctx.fireChannelRead(new DefaultHttpContent(gathered));
        }
    }

    private static FullHttpRequest full(HttpRequest req, ByteBuf content, LastHttpContent last) {
        return new GatheredRequest(req, content, last == null ? io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE : last.trailingHeaders());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (body != null) {
            ReferenceCountUtil.release(body);
            body = null;
            head = null;
        }
        ctx.fireChannelInactive();
    }
}
