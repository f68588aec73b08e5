package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The HTTP/1.x codec of a client connection: Netty's {@link HttpRequestDecoder} and
 * {@link HttpResponseEncoder}, paired as Netty's {@code HttpServerCodec} pairs them — each answer
 * is matched with its request, so that an answer to HEAD goes out without a body whatever its
 * headers say, and a 2xx to CONNECT without {@code Transfer-Encoding} — and one thing more: a
 * {@link FileResponse} goes out as the bytes its file's headers were encoded to once, instead of
 * being encoded header by header. {@code HttpServerCodec} is final and its encoder private, hence
 * the pairing here.
 *
 * <p>It also counts bytes, for the access log's {@code $request_length} and {@code $bytes_sent}:
 * each request it decodes is a {@link WireRequest}, which learns the bytes its line, headers and
 * body took on the wire; and {@link #bytesEncoded()} is every byte of the answers encoded so far
 * on the connection (headers, bodies and chunk framing; a file sent with sendfile by its length).
 */
final class ServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
    private static final AttributeKey<Boolean> INSTALLED = AttributeKey.valueOf(ServerCodec.class, "installed");

    // The methods of the requests decoded and not yet answered, oldest first (pipelined requests
    // wait in PipeliningHandler). Touched on the channel's event loop only.
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
    private long encoded;

    /** A request as the decoder read it, with the bytes it took on the wire (nginx's {@code $request_length}). */
    static final class WireRequest extends DefaultHttpRequest {
        private long wireBytes;
        private boolean complete;

        WireRequest(HttpVersion version, HttpMethod method, String uri, io.netty.handler.codec.http.HttpHeadersFactory headers) {
            super(version, method, uri, headers);
        }

        /** The bytes of the request line, headers and body read so far: all of them once the body has been read. */
        long wireBytes() {
            return wireBytes;
        }

        /** Whether the whole request, body included, has been read. */
        boolean complete() {
            return complete;
        }
    }

    ServerCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    /** Whether {@code ch}'s answers are encoded by a {@link ServerCodec}, which alone can send a {@link FileResponse}. */
    static boolean encodes(Channel ch) {
        return ch.hasAttr(INSTALLED) && ch.attr(INSTALLED).get() != null;
    }

    /** The bytes of every answer encoded on this connection so far. Read on the channel's event loop. */
    long bytesEncoded() {
        return encoded;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx);
        ctx.channel().attr(INSTALLED).set(Boolean.TRUE);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
        ctx.channel().attr(INSTALLED).set(null); // a WebSocket tunnel took the connection over
        super.handlerRemoved(ctx);
    }

    private final class Decoder extends HttpRequestDecoder {
        // The request whose bytes are being read (null between requests), and the bytes read since
        // the last request ended that no request has taken yet (a request line, headers so far).
        private WireRequest reading;
        private long unclaimed;

        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected HttpMessage createMessage(String[] initialLine) throws Exception {
            // As HttpRequestDecoder's, with room for the count; a version other than 1.1 and 1.0 is
            // parsed (strictly) by HttpRequestDecoder's own.
            String v = initialLine[2];
            HttpVersion version = "HTTP/1.1".equals(v) ? HttpVersion.HTTP_1_1 : "HTTP/1.0".equals(v) ? HttpVersion.HTTP_1_0
                    : ((HttpRequest) super.createMessage(initialLine)).protocolVersion();
            return new WireRequest(version, HttpMethod.valueOf(initialLine[0]), initialLine[1], headersFactory);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            int before = out.size();
            int start = buffer.readerIndex();
            super.decode(ctx, buffer, out);
            long read = buffer.readerIndex() - start;
            // One call reads within one request: the decoder returns once a request is complete.
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpRequest req) {
                    methods.add(req.method());
                    if (req instanceof WireRequest w) {
                        reading = w;
                        w.wireBytes = unclaimed;
                        unclaimed = 0;
                    }
                }
            }
            if (reading != null) {
                reading.wireBytes += read;
            } else {
                unclaimed += read;
            }
            if (reading != null && out.size() > before && out.getLast() instanceof LastHttpContent) {
                reading.complete = true;
                reading = null;
            }
        }
    }

    private final class Encoder extends HttpResponseEncoder {
        // The method of the request the answer being encoded belongs to.
        private HttpMethod method;

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            int before = out.size();
            if (msg instanceof FileResponse res) {
                try {
                    method = methods.poll();
                    out.add(res.encode(ctx.alloc(), !HttpMethod.HEAD.equals(method)));
                } finally {
                    res.release();
                }
            } else {
                super.encode(ctx, msg, out);
            }
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof ByteBuf buf) {
                    encoded += buf.readableBytes();
                } else if (o instanceof FileRegion region) {
                    encoded += region.count();
                }
            }
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse res) {
            if (res.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                // An interim answer (100, 101) is not the answer to its request.
                return super.isContentAlwaysEmpty(res);
            }
            method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(res);
        }

        @Override
        protected void sanitizeHeadersBeforeEncode(HttpResponse res, boolean isAlwaysEmpty) {
            if (!isAlwaysEmpty && HttpMethod.CONNECT.equals(method) && res.status().codeClass() == HttpStatusClass.SUCCESS) {
                // A tunnel follows a 2xx to CONNECT: no body framing (RFC 9112 section 6.1).
                res.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                return;
            }
            super.sanitizeHeadersBeforeEncode(res, isAlwaysEmpty);
        }
    }
}
