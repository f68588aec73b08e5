package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The responses the web tier writes itself: small HTML error pages, redirects, plain text. */
final class Responses {
    private Responses() {}

    /**
     * A page the web tier wrote itself, as opposed to an app server's answer or a file: what
     * {@link ErrorPages} may answer with a page of the site's instead.
     */
    static final class Page extends DefaultFullHttpResponse {
        Page(HttpResponseStatus status, ByteBuf content) {
            super(HttpVersion.HTTP_1_1, status, content);
        }
    }

    /** An HTML page for {@code status} with one explaining sentence. */
    static FullHttpResponse page(ByteBufAllocator alloc, HttpResponseStatus status, String message) {
        String title = status.code() + " " + status.reasonPhrase();
        String html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>" + escape(title)
                + "</title></head>\n<body>\n<h1>" + escape(title) + "</h1>\n<p>" + escape(message)
                + "</p>\n<hr><p>webstack</p>\n</body>\n</html>\n";
        return body(alloc, status, "text/html; charset=utf-8", html);
    }

    static FullHttpResponse text(ByteBufAllocator alloc, HttpResponseStatus status, String text) {
        return body(alloc, status, "text/plain; charset=utf-8", text);
    }

    static FullHttpResponse redirect(ByteBufAllocator alloc, HttpResponseStatus status, String location) {
        FullHttpResponse res = page(alloc, status, "This page lives at " + location);
        res.headers().set(HttpHeaderNames.LOCATION, location);
        return res;
    }

    /** A response without body (304, HEAD answers); the caller sets the length headers. */
    static FullHttpResponse empty(ByteBufAllocator alloc, HttpResponseStatus status) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, alloc.buffer(0));
    }

    private static FullHttpResponse body(ByteBufAllocator alloc, HttpResponseStatus status, String type, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf content = alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse res = new Page(status, content);
        res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return res;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
