package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
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
 */
final class ServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
    private static final AttributeKey<Boolean> INSTALLED = AttributeKey.valueOf(ServerCodec.class, "installed");

    // The methods of the requests decoded and not yet answered, oldest first (pipelined requests
    // wait in PipeliningHandler). Touched on the channel's event loop only.
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

    ServerCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    /** Whether {@code ch}'s answers are encoded by a {@link ServerCodec}, which alone can send a {@link FileResponse}. */
    static boolean encodes(Channel ch) {
        return ch.hasAttr(INSTALLED) && ch.attr(INSTALLED).get() != null;
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
        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                if (out.get(i) instanceof HttpRequest req) {
                    methods.add(req.method());
                }
            }
        }
    }

    private final class Encoder extends HttpResponseEncoder {
        // The method of the request the answer being encoded belongs to.
        private HttpMethod method;

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof FileResponse res) {
                try {
                    method = methods.poll();
                    out.add(res.encode(ctx.alloc(), !HttpMethod.HEAD.equals(method)));
                } finally {
                    res.release();
                }
                return;
            }
            super.encode(ctx, msg, out);
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
