package dev.webstack.web;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * The header rewriting of a proxy hop (RFC 9110 sections 7.6.1 and 7.6.3): hop-by-hop headers are
 * the connection's, not the message's, and are dropped both ways; {@code Via} records the hop; the
 * {@code X-Forwarded-*} headers tell the app server who the client is and what it asked for.
 * The {@code Host} header passes through unchanged.
 *
 * <p>{@code Upgrade} is hop-by-hop too, and is dropped, with one exception: a WebSocket opening
 * handshake (RFC 6455 section 4.1) keeps {@code Upgrade: websocket} and {@code Connection: upgrade}
 * on the way up, and so does the app server's {@code 101} on the way back, so that the two ends
 * can switch protocols through this hop ({@link WebSocketTunnel}). Any other protocol
 * ({@code h2c}...) is not offered to the app server: the request is answered as plain HTTP/1.1.
 */
final class ProxyHeaders {
    static final String VIA = "1.1 webstack";
    // Values as AsciiString: the encoder copies them as bytes instead of char by char.
    private static final AsciiString VIA_VALUE = AsciiString.cached(VIA);
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString X_SSL_CLIENT_VERIFY = AsciiString.cached("x-ssl-client-verify");
    static final AsciiString X_SSL_CLIENT_S_DN = AsciiString.cached("x-ssl-client-s-dn");

    // Keep-Alive and Proxy-Connection are spelled out: Netty deprecates its constants for them
    // (they are not HTTP/1.1 headers), which is exactly why a proxy must drop them.
    private static final List<AsciiString> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION,
            AsciiString.cached("keep-alive"),
            AsciiString.cached("proxy-connection"),
            HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER,
            HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.UPGRADE);

    private ProxyHeaders() {}

    /** Removes the standard hop-by-hop headers and those the Connection header names (but never Host or X-Request-Id). */
    static void removeHopByHop(HttpHeaders h) {
        if (h.isEmpty()) {
            return;
        }
        List<String> connection = h.getAll(HttpHeaderNames.CONNECTION);
        for (int i = 0; i < connection.size(); i++) {
            removeNamed(h, connection.get(i));
        }
        for (AsciiString name : HOP_BY_HOP) {
            h.remove(name);
        }
    }

    // The headers a Connection value names, but never Host or X-Request-Id: a client must not be
    // able to strip what routing and tracing rely on. Names removed below anyway are skipped.
    private static void removeNamed(HttpHeaders h, String value) {
        int start = 0;
        while (start <= value.length()) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? value.length() : comma;
            String t = value.substring(start, end).trim();
            if (!t.isEmpty() && !isHopByHop(t) && !t.equalsIgnoreCase("host")
                    && !RequestIdHandler.X_REQUEST_ID.contentEqualsIgnoreCase(t)) {
                h.remove(t);
            }
            start = end + 1;
        }
    }

    private static boolean isHopByHop(String name) {
        if (name.equalsIgnoreCase("close")) {
            return true; // a connection option, not a header
        }
        for (AsciiString n : HOP_BY_HOP) {
            if (n.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code req} is a WebSocket opening handshake: a GET over HTTP/1.1 whose
     * {@code Connection} names {@code upgrade} and whose {@code Upgrade} lists {@code websocket}
     * (RFC 6455 section 4.1; tokens compared case-insensitively).
     */
    static boolean isWebSocketUpgrade(HttpRequest req) {
        HttpHeaders h = req.headers();
        return req.method().equals(HttpMethod.GET)
                && req.protocolVersion().equals(HttpVersion.HTTP_1_1)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    /**
     * Turns the client's request into the request to the app server, in place: HTTP/1.1 with a
     * Content-Length (the body is aggregated), {@code Expect} dropped (this tier already answered
     * 100-continue), forwarding headers added; a WebSocket handshake ({@code webSocket}) keeps
     * asking for the upgrade. What the client's certificate said ({@code client}; null when the
     * connection asked for none) replaces any {@code X-SSL-Client-*} header the client sent, which
     * is never passed on: the app may trust them.
     */
    static void toUpstream(FullHttpRequest req, String clientIp, boolean secure, Tls.ClientCertificate client, boolean webSocket) {
        HttpHeaders h = req.headers();
        removeHopByHop(h);
        if (webSocket) {
            keepWebSocketUpgrade(h);
        }
        h.remove(HttpHeaderNames.EXPECT);
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        req.setUri(originForm(req.uri()));
        if (req instanceof BodyGate.StreamedRequest streamed) {
            // The body follows as it arrives, framed as the client framed it.
            if (streamed.chunked()) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                h.set(HttpHeaderNames.CONTENT_LENGTH, streamed.contentLength());
            }
        } else {
            int length = req.content().readableBytes();
            if (length > 0 || h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                h.set(HttpHeaderNames.CONTENT_LENGTH, length);
            }
        }
        String forwardedFor = h.get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, forwardedFor == null || forwardedFor.isBlank() ? clientIp : forwardedFor + ", " + clientIp);
        h.set(X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
        String host = h.get(HttpHeaderNames.HOST);
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        } else {
            h.remove(X_FORWARDED_HOST);
        }
        h.remove(X_SSL_CLIENT_VERIFY);
        h.remove(X_SSL_CLIENT_S_DN);
        if (client != null) {
            h.set(X_SSL_CLIENT_VERIFY, client.verify());
            if (client.subject() != null) {
                h.set(X_SSL_CLIENT_S_DN, client.subject());
            }
        }
        addVia(h);
    }

    /**
     * The target as the app server gets it: origin-form (RFC 9112 section 3.2.1: a request made
     * to an origin server carries the path and query only), so an absolute-form target loses its
     * scheme and authority (which {@link VirtualHostHandler} checked), as nginx's {@code proxy_pass}
     * does; and every character from {@code 0x80} up percent-encoded. The codec reads the request
     * line one char per byte, but the encoder writes a target as UTF-8, so a raw non-ASCII byte
     * (which browsers never send, curl may) would reach the app server as two bytes; encoded, it
     * means the same URI. {@code *} (OPTIONS) is kept.
     */
    static String originForm(String target) {
        String t = target;
        if (t.regionMatches(true, 0, "http://", 0, 7) || t.regionMatches(true, 0, "https://", 0, 8)) {
            int authority = t.indexOf("//") + 2;
            int end = authority;
            while (end < t.length() && t.charAt(end) != '/' && t.charAt(end) != '?' && t.charAt(end) != '#') {
                end++;
            }
            t = end == t.length() || t.charAt(end) != '/' ? "/" + t.substring(end) : t.substring(end);
        }
        for (int i = 0; i < t.length(); i++) {
            if (t.charAt(i) >= 0x80) {
                return percentEncodeHigh(t);
            }
        }
        return t;
    }

    private static String percentEncodeHigh(String t) {
        StringBuilder out = new StringBuilder(t.length() + 16);
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x80) {
                out.append(c);
            } else if (c <= 0xff) {
                RequestPaths.appendPercentEncoded(out, c); // a byte from the wire
            } else {
                // Not from the wire (one char per byte): its UTF-8 bytes.
                for (byte b : String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    RequestPaths.appendPercentEncoded(out, b & 0xff);
                }
            }
        }
        return out.toString();
    }

    /** Turns the app server's response headers into the client's, in place. */
    static void toClient(HttpHeaders h) {
        removeHopByHop(h);
        addVia(h);
    }

    /** Turns the app server's {@code 101 Switching Protocols} to a WebSocket into the client's, in place. */
    static void toClientSwitching(HttpHeaders h) {
        toClient(h);
        keepWebSocketUpgrade(h);
    }

    private static void keepWebSocketUpgrade(HttpHeaders h) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    }

    private static void addVia(HttpHeaders h) {
        String via = h.get(HttpHeaderNames.VIA);
        if (via == null || via.isBlank()) {
            h.set(HttpHeaderNames.VIA, VIA_VALUE);
        } else {
            h.set(HttpHeaderNames.VIA, via + ", " + VIA);
        }
    }
}
