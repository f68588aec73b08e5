package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which requests are WebSocket handshakes, and what the app server sees of their headers and targets. */
class ProxyHeadersTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "/a?b=c                          | /a?b=c",
            "/a%20b/%2F?x=%20                | /a%20b/%2F?x=%20",
            "*                               | *",
            "http://www.foobar.com/abs?q=1   | /abs?q=1",
            "HTTPS://www.foobar.com:8443/x   | /x",
            "http://www.foobar.com           | /",
            "http://www.foobar.com?q=1       | /?q=1",
            "/caf\u00c3\u00a9?n=\u00ff      | /caf%C3%A9?n=%FF",
    })
    void theAppServerGetsOriginFormWithRawBytesPercentEncoded(String target, String expected) {
        // The codec reads a request line one char per byte: a raw UTF-8 'é' arrives as the chars C3 A9.
        assertThat(ProxyHeaders.originForm(target)).isEqualTo(expected);
    }

    private static FullHttpRequest request(HttpMethod method, HttpVersion version, String connection, String upgrade) {
        FullHttpRequest req = new DefaultFullHttpRequest(version, method, "/ws", Unpooled.EMPTY_BUFFER);
        req.headers().set("Host", "www.foobar.com");
        if (!connection.isEmpty()) {
            req.headers().set("Connection", connection);
        }
        if (!upgrade.isEmpty()) {
            req.headers().set("Upgrade", upgrade);
        }
        return req;
    }

    @ParameterizedTest(name = "{0} {1} Connection: [{2}] Upgrade: [{3}] -> {4}")
    @CsvSource(delimiter = '|', value = {
            "GET  | HTTP/1.1 | Upgrade             | websocket      | true",
            "GET  | HTTP/1.1 | keep-alive, Upgrade | WebSocket      | true",
            "GET  | HTTP/1.1 | UPGRADE             | foo, websocket | true",
            "GET  | HTTP/1.1 | keep-alive          | websocket      | false",
            "GET  | HTTP/1.1 | Upgrade             | h2c            | false",
            "GET  | HTTP/1.1 | Upgrade             | ''             | false",
            "GET  | HTTP/1.0 | Upgrade             | websocket      | false",
            "POST | HTTP/1.1 | Upgrade             | websocket      | false",
    })
    void recognisesAWebSocketHandshake(String method, String version, String connection, String upgrade, boolean expected) {
        FullHttpRequest req = request(HttpMethod.valueOf(method), HttpVersion.valueOf(version), connection, upgrade);
        assertThat(ProxyHeaders.isWebSocketUpgrade(req)).isEqualTo(expected);
    }

    @Test
    void aWebSocketHandshakeKeepsAskingForTheUpgradeButLosesOtherHopHeaders() {
        FullHttpRequest req = request(HttpMethod.GET, HttpVersion.HTTP_1_1, "keep-alive, Upgrade, X-Hop", "websocket");
        req.headers().set("X-Hop", "drop me").set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        ProxyHeaders.toUpstream(req, "192.0.2.1", false, null, true);
        assertThat(req.headers().get("Connection")).isEqualTo("upgrade");
        assertThat(req.headers().get("Upgrade")).isEqualTo("websocket");
        assertThat(req.headers().get("Sec-WebSocket-Key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");
        assertThat(req.headers().contains("X-Hop")).isFalse();
    }

    @Test
    void anyOtherUpgradeIsStripped() {
        FullHttpRequest req = request(HttpMethod.GET, HttpVersion.HTTP_1_1, "Upgrade, HTTP2-Settings", "h2c");
        req.headers().set("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA");
        ProxyHeaders.toUpstream(req, "192.0.2.1", false, null, false);
        assertThat(req.headers().names()).doesNotContain("Connection", "Upgrade", "HTTP2-Settings");
    }

    @Test
    void theSwitchToAWebSocketKeepsItsUpgradeHeaders() {
        DefaultHttpHeaders h = new DefaultHttpHeaders();
        h.set("Connection", "Upgrade").set("Upgrade", "websocket").set("Keep-Alive", "timeout=5")
                .set("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        ProxyHeaders.toClientSwitching(h);
        assertThat(h.get("Connection")).isEqualTo("upgrade");
        assertThat(h.get("Upgrade")).isEqualTo("websocket");
        assertThat(h.get("Sec-WebSocket-Accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(h.get("Via")).isEqualTo(ProxyHeaders.VIA);
        assertThat(h.contains("Keep-Alive")).isFalse();
    }

    @Test
    void headersNamedByEveryConnectionHeaderAreDroppedButNeverHostOrTheRequestId() {
        DefaultHttpHeaders h = new DefaultHttpHeaders();
        h.add("Host", "www.foobar.com").add("X-Request-Id", "r-1").add("Connection", "close, X-Secret ,host,,X-REQUEST-ID")
                .add("Connection", "Foo").add("X-Secret", "s").add("Foo", "f").add("Keep-Alive", "timeout=5").add("Accept", "*/*");
        ProxyHeaders.toClient(h);
        assertThat(h.names()).containsExactlyInAnyOrder("Host", "X-Request-Id", "Accept", "via");
    }

    @Test
    void clientCertificateHeadersComeOnlyFromTheHandshake() {
        FullHttpRequest forged = request(HttpMethod.GET, HttpVersion.HTTP_1_1, "", "");
        forged.headers().set("X-SSL-Client-Verify", "SUCCESS").set("X-SSL-Client-S-DN", "CN=admin");
        ProxyHeaders.toUpstream(forged, "192.0.2.1", false, null, false);
        assertThat(forged.headers().contains("X-SSL-Client-Verify")).as("not asked for a certificate").isFalse();
        assertThat(forged.headers().contains("X-SSL-Client-S-DN")).isFalse();

        FullHttpRequest none = request(HttpMethod.GET, HttpVersion.HTTP_1_1, "", "");
        none.headers().set("X-SSL-Client-S-DN", "CN=admin");
        ProxyHeaders.toUpstream(none, "192.0.2.1", true, Tls.ClientCertificate.NONE, false);
        assertThat(none.headers().getAll("X-SSL-Client-Verify")).containsExactly("NONE");
        assertThat(none.headers().contains("X-SSL-Client-S-DN")).isFalse();

        FullHttpRequest shown = request(HttpMethod.GET, HttpVersion.HTTP_1_1, "", "");
        shown.headers().add("X-SSL-Client-Verify", "FAILED").add("X-SSL-Client-S-DN", "CN=admin");
        ProxyHeaders.toUpstream(shown, "192.0.2.1", true, new Tls.ClientCertificate(
                io.netty.util.AsciiString.cached("SUCCESS"), new io.netty.util.AsciiString("CN=alice,O=Foobar")), false);
        assertThat(shown.headers().getAll("X-SSL-Client-Verify")).containsExactly("SUCCESS");
        assertThat(shown.headers().getAll("X-SSL-Client-S-DN")).containsExactly("CN=alice,O=Foobar");
    }
}
