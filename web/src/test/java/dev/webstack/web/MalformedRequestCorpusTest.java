package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Raw malformed requests against a real web tier in front of an upstream that counts every byte it
 * receives: each is answered with the expected 4xx/5xx, the connection is closed, and not one byte
 * reaches the upstream. The requests target a proxied path, so that anything let through would
 * show up at the upstream (see {@link #wellFormedRequestsDoReachTheUpstream}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedRequestCorpusTest {
    private static final String H = "Host: www.foobar.com\r\n";

    private CountingUpstream upstream;
    private WebServer server;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        upstream = new CountingUpstream();
        Path root = Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(root.resolve("a.txt"), "static a");
        server = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"),
                List.of(upstream.address()), Duration.ofSeconds(5)), TestConfigs.SITE,
                // Health checks would reach the upstream too: this test counts what requests do.
                WebConfig.Limits.DEFAULTS, BalancerSettings.defaults().withHealthInterval(Duration.ZERO));
    }

    @AfterAll
    void stop() throws IOException {
        server.close();
        upstream.close();
    }

    @BeforeEach
    void resetCounts() {
        upstream.reset();
    }

    static Stream<Arguments> corpus() {
        List<Arguments> c = new ArrayList<>();
        // Content-Length and Transfer-Encoding together (CVE-2019-20445 and request smuggling in general).
        add(c, "CL then TE", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        add(c, "TE then CL", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n");
        add(c, "CL 0 and TE", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        // Content-Length repeated or not a plain number.
        add(c, "two different CL", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        add(c, "two equal CL", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
        add(c, "CL list", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\nhello");
        add(c, "CL negative", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\n");
        add(c, "CL plus sign", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\nhello");
        add(c, "CL hex", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 0x5\r\n\r\nhello");
        add(c, "CL letters", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: abc\r\n\r\n");
        add(c, "CL empty", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: \r\n\r\n");
        add(c, "CL inner space", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 1 2\r\n\r\nhello world!");
        add(c, "CL 19 digits", 400, "POST /app HTTP/1.1\r\n" + H + "Content-Length: 1000000000000000000\r\n\r\n");
        // Transfer-Encoding other than one final chunked (CVE-2020-7238, CVE-2019-20444).
        add(c, "TE chunked, identity", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n");
        add(c, "TE identity", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n\r\n");
        add(c, "TE gzip, chunked", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
        add(c, "TE xchunked", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n");
        add(c, "TE twice", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        add(c, "TE vertical tab", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: \u000bchunked\r\n\r\n0\r\n\r\n");
        add(c, "TE on HTTP/1.0", 400, "POST /app HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        // Whitespace before the colon, no colon (CVE-2019-16869, CVE-2019-20444).
        add(c, "space before colon", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
        add(c, "tab before colon", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n");
        add(c, "VT in name", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding\u000b: chunked\r\n\r\n0\r\n\r\n");
        add(c, "header without colon", 400, "GET /app HTTP/1.1\r\n" + H + "Transfer-Encoding\r\n\r\n");
        add(c, "empty header name", 400, "GET /app HTTP/1.1\r\n" + H + ": empty\r\n\r\n");
        add(c, "non-token name", 400, "GET /app HTTP/1.1\r\n" + H + "X(y): z\r\n\r\n");
        // obs-fold (CVE-2020-7238 used a leading space before Transfer-Encoding).
        add(c, "obs-fold space", 400, "GET /app HTTP/1.1\r\n" + H + "X-Foo: a\r\n b\r\n\r\n");
        add(c, "obs-fold tab", 400, "GET /app HTTP/1.1\r\n" + H + "X-Foo: a\r\n\tb\r\n\r\n");
        add(c, "leading space TE", 400, "POST /app HTTP/1.1\r\n" + H + " Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello");
        // Control characters, bare CR and LF.
        add(c, "NUL in value", 400, "GET /app HTTP/1.1\r\n" + H + "X-A: a\u0000b\r\n\r\n");
        add(c, "DEL in value", 400, "GET /app HTTP/1.1\r\n" + H + "X-A: a\u007fb\r\n\r\n");
        add(c, "bare CR in value", 400, "GET /app HTTP/1.1\r\n" + H + "X-A: a\rb\r\n\r\n");
        add(c, "bare LF in value", 400, "GET /app HTTP/1.1\r\n" + H + "X-A: a\nX-B: b\r\n\r\n");
        add(c, "bare LF everywhere", 400, "GET /app HTTP/1.1\nHost: www.foobar.com\n\n");
        add(c, "control char in name", 400, "GET /app HTTP/1.1\r\n" + H + "X\u0001A: b\r\n\r\n");
        add(c, "tab in target", 400, "GET /a\tb HTTP/1.1\r\n" + H + "\r\n");
        add(c, "bare CR in request line", 400, "GET /app\r HTTP/1.1\r\n" + H + "\r\n");
        add(c, "two Host headers", 400, "GET /app HTTP/1.1\r\n" + H + "Host: evil.example\r\n\r\n");
        add(c, "slash in Host", 400, "GET /app HTTP/1.1\r\nHost: www.foobar.com/evil\r\n\r\n");
        add(c, "user info in Host", 400, "GET /app HTTP/1.1\r\nHost: evil@www.foobar.com\r\n\r\n");
        add(c, "query in Host", 400, "GET /app HTTP/1.1\r\nHost: www.foobar.com?x\r\n\r\n");
        add(c, "backslash in Host", 400, "GET /app HTTP/1.1\r\nHost: www.foobar.com\\evil\r\n\r\n");
        add(c, "8-bit byte in Host", 400, "GET /app HTTP/1.1\r\nHost: www.foob\u00e4r.com\r\n\r\n");
        // Invalid chunk sizes and chunk framing.
        add(c, "chunk size not hex", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size leading space", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size trailing space", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size 0x", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size negative", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n-1\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size 17 digits", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n00000000000000005\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size empty", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk size bare LF", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n");
        add(c, "chunk data too long", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk data without CRLF", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n");
        add(c, "chunk size overflow", 413, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello\r\n0\r\n\r\n");
        add(c, "chunk extension with control char", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;a\u0001b\r\nhello\r\n0\r\n\r\n");
        add(c, "trailer obs-fold", 400, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n");
        // Request lines.
        add(c, "double space", 400, "GET  /app HTTP/1.1\r\n" + H + "\r\n");
        add(c, "HTTP/0.9", 400, "GET /app\r\n\r\n");
        add(c, "extra token", 400, "GET /app HTTP/1.1 extra\r\n" + H + "\r\n");
        add(c, "no version", 400, "GET /app FOO/1.1\r\n" + H + "\r\n");
        add(c, "HTTP/2.0", 505, "GET /app HTTP/2.0\r\n" + H + "\r\n");
        // Limits.
        add(c, "request line too long", 414,
                "GET /" + "a".repeat(WebConfig.Limits.MAX_REQUEST_LINE) + " HTTP/1.1\r\n" + H + "\r\n");
        add(c, "headers too large", 431,
                "GET /app HTTP/1.1\r\n" + H + "X-Big: " + "b".repeat(WebConfig.Limits.MAX_HEADER_SIZE) + "\r\n\r\n");
        add(c, "too many headers", 431, "GET /app HTTP/1.1\r\n" + H + "X-N: 1\r\n".repeat(WebConfig.Limits.MAX_HEADERS) + "\r\n");
        add(c, "declared body too large", 413, "POST /app HTTP/1.1\r\n" + H + "Content-Length: " + (ClientPipeline.MAX_BODY + 1) + "\r\n\r\n");
        add(c, "chunked body too large", 413, "POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(ClientPipeline.MAX_BODY + 1) + "\r\nhello");
        return c.stream();
    }

    private static void add(List<Arguments> corpus, String name, int status, String request) {
        corpus.add(Arguments.of(name, status, request));
    }

    @ParameterizedTest(name = "{0} → {1}")
    @MethodSource("corpus")
    void isRefusedClosedAndNeverForwarded(String name, int status, String request) throws Exception {
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(request);
            RawHttp.Response res = http.read();
            assertThat(res.status()).as("status for %s", name).isEqualTo(status);
            assertThat(res.header("connection")).as("Connection header for %s", name).isEqualToIgnoringCase("close");
            assertThat(http.closedByServer()).as("connection closed after %s", name).isTrue();
        }
        assertThat(upstream.bytes.get()).as("bytes that reached the upstream for %s", name).isZero();
        assertThat(upstream.connections.get()).as("upstream connections for %s", name).isZero();
    }

    @Test
    void smugglingAfterAGoodRequestStopsTheConnectionAtTheBadOne() throws Exception {
        try (RawHttp http = new RawHttp(server.port())) {
            http.send("GET /static/a.txt HTTP/1.1\r\n" + H + "\r\n"
                    + "POST /app HTTP/1.1\r\n" + H + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + "GET /app/smuggled HTTP/1.1\r\n" + H + "\r\n");
            assertThat(http.read().text()).isEqualTo("static a");
            assertThat(http.read().status()).isEqualTo(400);
            assertThat(http.closedByServer()).isTrue();
        }
        assertThat(upstream.bytes.get()).as("bytes that reached the upstream").isZero();
    }

    /** The control: the same shapes, well formed, do go through, so a zero count above means something. */
    @Test
    void wellFormedRequestsDoReachTheUpstream() throws Exception {
        try (RawHttp http = new RawHttp(server.port())) {
            http.send("GET /app HTTP/1.1\r\n" + H + "X-A: a\tb\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(200);
            http.send("POST /app HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: t\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(200);
            http.send("POST /app HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhello");
            assertThat(http.read().status()).isEqualTo(200);
        }
        assertThat(upstream.bytes.get()).isPositive();
    }
}
