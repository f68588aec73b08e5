package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The reverse proxy against a real (tiny) app server. */
class ProxyTest {
    @TempDir
    Path dir;
    private TestUpstream upstream;
    private WebServer server;

    private int start(List<HostPort> upstreams, Duration readTimeout) throws IOException {
        server = WebServer.start(
                TestConfigs.web(Files.createDirectories(dir.resolve("public")), dir.resolve("var/log/web-access.log"),
                        upstreams, readTimeout),
                TestConfigs.SITE);
        return server.port();
    }

    private int startWithUpstream(long slowMillis, Duration readTimeout) throws IOException {
        upstream = new TestUpstream("app-1", slowMillis);
        return start(List.of(upstream.address()), readTimeout);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "HTTP/1.1 2000 Weird\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 99 Low\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\nContent-Length: 2\r\n\r\nok",
            "NOT HTTP AT ALL\r\n\r\n",
    })
    void anAnswerFromTheAppServerThatIsNotWellFormedIs502(String answer) throws IOException {
        try (CountingUpstream bad = new CountingUpstream(answer)) {
            int port = start(List.of(bad.address()), Duration.ofSeconds(5));
            assertThat(RawHttp.exchange(port, RawHttp.get("/echo/x", TestConfigs.WWW)).status()).isEqualTo(502);
        }
    }

    @Test
    void bytesAfterAnAnswerNeverBecomeTheNextAnswer() throws IOException {
        try (CountingUpstream extra = new CountingUpstream(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsmuggle")) {
            int port = start(List.of(extra.address()), Duration.ofSeconds(5));
            try (RawHttp http = new RawHttp(port)) {
                for (int i = 0; i < 3; i++) {
                    http.send(RawHttp.get("/echo/" + i, TestConfigs.WWW));
                    assertThat(http.read().text()).isEqualTo("hello");
                }
            }
        }
    }

    @Test
    void theAppServerGetsTheTargetInOriginFormWithRawBytesPercentEncoded() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        RawHttp.Response absolute = RawHttp.exchange(port, "GET http://www.foobar.com/echo/abs?q=1 HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
        assertThat(absolute.text()).as("RFC 9112 section 3.2.1, as nginx's proxy_pass").startsWith("GET /echo/abs?q=1\n");
        // A raw UTF-8 'é' (two bytes, as curl may send it): the same two bytes, percent-encoded, not four.
        byte[] raw = "GET /echo/caf\u00e9 HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        RawHttp.Response utf8 = RawHttp.exchange(port, new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThat(utf8.text()).startsWith("GET /echo/caf%C3%A9\n");
    }

    @Test
    void forwardsWithForwardingHeadersAndBringsTheResponseBack() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        RawHttp.Response res = RawHttp.exchange(port, "GET /echo/page?x=1&y=2 HTTP/1.1\r\n"
                + "Host: www.foobar.com\r\n"
                + "X-Forwarded-For: 203.0.113.7\r\n"
                + "X-Request-Id: req-42\r\n"
                + "Connection: keep-alive, X-Secret-Hop\r\n"
                + "X-Secret-Hop: drop me\r\n"
                + "Proxy-Connection: keep-alive\r\n"
                + "User-Agent: proxy-test\r\n\r\n");
        assertThat(res.status()).isEqualTo(200);
        String seen = res.text();
        assertThat(seen).startsWith("GET /echo/page?x=1&y=2\n");
        assertThat(seen).contains("host: www.foobar.com\n")
                .contains("x-forwarded-for: 203.0.113.7, 127.0.0.1\n")
                .contains("x-forwarded-proto: http\n")
                .contains("x-forwarded-host: www.foobar.com\n")
                .contains("x-request-id: req-42\n")
                .contains("via: 1.1 webstack\n")
                .contains("user-agent: proxy-test\n")
                .doesNotContain("x-secret-hop")
                .doesNotContain("proxy-connection");
        assertThat(res.header("x-upstream")).isEqualTo("app-1");
        assertThat(res.header("x-request-id")).isEqualTo("req-42");
        assertThat(res.header("via")).isEqualTo("1.1 webstack");
        assertThat(res.header("keep-alive")).isNull();
    }

    @Test
    void generatesARequestIdWhenTheClientHasNone() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        RawHttp.Response res = RawHttp.exchange(port, RawHttp.get("/echo", TestConfigs.WWW));
        String id = res.header("x-request-id");
        assertThat(id).matches("[0-9a-f]{32}");
        assertThat(res.text()).contains("x-request-id: " + id + "\n");
        RawHttp.Response next = RawHttp.exchange(port, RawHttp.get("/echo", TestConfigs.WWW));
        assertThat(next.header("x-request-id")).matches("[0-9a-f]{32}").isNotEqualTo(id);
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/echo/1", TestConfigs.WWW));
            RawHttp.Response first = http.read();
            http.send(RawHttp.get("/echo/2", TestConfigs.WWW));
            RawHttp.Response second = http.read();
            assertThat(first.text()).startsWith("GET /echo/1\n");
            assertThat(second.text()).startsWith("GET /echo/2\n");
            assertThat(first.header("connection")).isNull();
        }
    }

    @Test
    void pipelinedMixOfStaticAndProxiedIsAnsweredInOrder() throws IOException {
        int port = startWithUpstream(200, Duration.ofSeconds(5));
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/a.txt"), "static a");
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/slow", TestConfigs.WWW) + RawHttp.get("/static/a.txt", TestConfigs.WWW)
                    + RawHttp.get("/echo/3", TestConfigs.WWW));
            assertThat(http.read().text()).isEqualTo("slow");
            assertThat(http.read().text()).isEqualTo("static a");
            assertThat(http.read().text()).startsWith("GET /echo/3\n");
        }
    }

    @Test
    void pipelinedRequestsQueuedBehindAnAnsweredOneWaitForTheSlowOneBeforeThem() throws IOException {
        int port = startWithUpstream(300, Duration.ofSeconds(5));
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/echo/1", TestConfigs.WWW) + RawHttp.get("/slow", TestConfigs.WWW)
                    + RawHttp.get("/echo/3", TestConfigs.WWW) + RawHttp.get("/echo/4", TestConfigs.WWW));
            assertThat(http.read().text()).startsWith("GET /echo/1\n");
            assertThat(http.read().text()).isEqualTo("slow");
            assertThat(http.read().text()).startsWith("GET /echo/3\n");
            assertThat(http.read().text()).startsWith("GET /echo/4\n");
        }
    }

    @Test
    void streamsAResponseWithoutLengthChunked() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        RawHttp.Response res = RawHttp.exchange(port, RawHttp.get("/stream", TestConfigs.WWW));
        assertThat(res.header("transfer-encoding")).isEqualTo("chunked");
        assertThat(res.text()).isEqualTo("piece 0\npiece 1\npiece 2\n");
    }

    @Test
    void forwardsRequestBodies() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        RawHttp.Response res = RawHttp.exchange(port, "POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.text()).isEqualTo("hello world");
    }

    @Test
    void expectContinueIsAnsweredWhenTheBodyGoesToTheApp() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        try (RawHttp http = new RawHttp(port)) {
            http.send("POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            assertThat(http.read().status()).as("the body is invited").isEqualTo(100);
            http.send("hello");
            RawHttp.Response res = http.read();
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.text()).isEqualTo("hello");

            http.send("POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
            assertThat(http.read().status()).isEqualTo(100);
            http.send("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            RawHttp.Response chunked = http.read();
            assertThat(chunked.text()).as("the same connection, kept alive").isEqualTo("hello world");
        }
    }

    @Test
    void expectContinueToAStaticFileIsRefusedAtOnceAndTheConnectionCloses() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        try (RawHttp http = new RawHttp(port)) {
            http.send("POST /static/a.txt HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Response res = http.read();
            assertThat(res.status()).as("no 100 first: the answer does not need the body").isEqualTo(405);
            assertThat(res.header("connection")).isEqualTo("close");
            assertThat(http.closedByServer()).isTrue();
        }
    }

    @Test
    void upstreamDownIs502Page() throws IOException {
        int port = start(List.of(new HostPort("127.0.0.1", TestConfigs.refusingPort())), Duration.ofSeconds(5));
        RawHttp.Response res = RawHttp.exchange(port, RawHttp.get("/anything", TestConfigs.WWW));
        assertThat(res.status()).isEqualTo(502);
        assertThat(res.header("content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(res.text()).contains("502 Bad Gateway").contains("application server is not answering");
    }

    @Test
    void anAppServerThatNeverCompletesTheConnectIs504AfterTheConnectTimeout() throws IOException {
        // A listening socket whose accept queue is full: the kernel drops further SYNs, so that a
        // connect is neither accepted nor refused until the client gives up.
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> queued = new ArrayList<>();
            try {
                for (int i = 0; i < 16; i++) {
                    Socket s = new Socket();
                    queued.add(s);
                    try {
                        s.connect(full.getLocalSocketAddress(), 200);
                    } catch (java.net.SocketTimeoutException e) {
                        break; // the queue is full
                    }
                }
                WebConfig w = TestConfigs.web(Files.createDirectories(dir.resolve("public")), dir.resolve("var/log/web-access.log"),
                        List.of(new HostPort("127.0.0.1", full.getLocalPort())), Duration.ofSeconds(5));
                server = WebServer.start(new WebConfig(w.listen(), w.publicRoot(), w.locations(), w.mimeTypes(), w.upstreams(),
                        Duration.ofMillis(300), w.readTimeout(), w.idleTimeout(), w.upstreamKeepalive(), w.accessLog(), w.admin(),
                        w.limits(), w.balancing(), w.tls(), w.errorPages(), w.realIp()), TestConfigs.SITE,
                        WebConfig.Limits.DEFAULTS, BalancerSettings.defaults().withHealthInterval(Duration.ZERO));
                RawHttp.Response res = RawHttp.exchange(server.port(), RawHttp.get("/anything", TestConfigs.WWW));
                assertThat(res.status()).as("nginx's answer to a connect timeout").isEqualTo(504);
                assertThat(res.text()).contains("504 Gateway Timeout");
            } finally {
                for (Socket s : queued) {
                    s.close();
                }
            }
        }
    }

    @Test
    void noUpstreamConfiguredIs502() throws IOException {
        int port = start(List.of(), Duration.ofSeconds(5));
        assertThat(RawHttp.exchange(port, RawHttp.get("/", TestConfigs.WWW)).status()).isEqualTo(502);
    }

    @Test
    void slowUpstreamIs504() throws IOException {
        int port = startWithUpstream(3_000, Duration.ofMillis(300));
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/slow", TestConfigs.WWW));
            RawHttp.Response res = http.read();
            assertThat(res.status()).isEqualTo(504);
            assertThat(res.text()).contains("504 Gateway Timeout");
            // The client connection survives the upstream's timeout.
            http.send(RawHttp.get("/-/health", TestConfigs.WWW));
            assertThat(http.read().status()).isEqualTo(200);
        }
    }

    @Test
    void aReloadThatShortensTheReadTimeoutAppliesOnAConnectionAlreadyWatched() throws IOException {
        int port = startWithUpstream(3_000, Duration.ofSeconds(30));
        try (RawHttp http = new RawHttp(port)) {
            // A first exchange: the connection's timer now waits about 30 s.
            http.send(RawHttp.get("/echo", TestConfigs.WWW));
            assertThat(http.read().status()).isEqualTo(200);
            server.reload(TestConfigs.web(dir.resolve("public"), dir.resolve("var/log/web-access.log"), List.of(upstream.address()),
                    Duration.ofMillis(300)), TestConfigs.SITE);
            // With the 30 s wait kept, the app server's answer (after 3 s) would arrive first: 200.
            http.send(RawHttp.get("/slow", TestConfigs.WWW));
            assertThat(http.read().status()).isEqualTo(504);
        }
    }

    @Test
    void upstreamConnectionsAreReused() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        List<String> upstreamSidePorts = new java.util.ArrayList<>();
        try (RawHttp http = new RawHttp(port)) {
            for (int i = 0; i < 3; i++) {
                http.send(RawHttp.get("/echo/" + i, TestConfigs.WWW));
                RawHttp.Response res = http.read();
                assertThat(res.status()).isEqualTo(200);
                upstreamSidePorts.add(res.header("x-remote-port"));
            }
        }
        // One client connection lives on one event loop, whose pool hands back the same connection.
        assertThat(upstreamSidePorts).doesNotContainNull().containsOnly(upstreamSidePorts.get(0));
    }

    @Test
    void upstreamConnectionsUpToTheKeepaliveWaitForTheNextRequests() throws Exception {
        int port = startWithKeepalive(WebConfig.DEFAULT_UPSTREAM_KEEPALIVE);
        int clients = 8 * LOOPS; // the same number on each event loop in each wave
        Set<String> first = slowWave(port, clients);
        Set<String> second = slowWave(port, clients);

        assertThat(first).hasSize(clients); // each request in flight at once had a connection of its own
        second.removeAll(first);
        assertThat(second).as("upstream connections opened again").hasSizeLessThanOrEqualTo(LOOPS);
    }

    @Test
    void idleUpstreamConnectionsBeyondTheKeepaliveAreClosed() throws Exception {
        int port = startWithKeepalive(1); // web.upstream-keepalive: 1
        int clients = 8 * LOOPS;
        Set<String> first = slowWave(port, clients);
        Set<String> second = slowWave(port, clients);

        assertThat(first).hasSize(clients);
        second.removeAll(first);
        // One connection kept per event loop: the rest of the second wave connects anew.
        assertThat(second).hasSizeGreaterThanOrEqualTo(clients - LOOPS);
    }

    private static final int LOOPS = Runtime.getRuntime().availableProcessors(); // the web tier's event loops

    private int startWithKeepalive(int keepalive) throws IOException {
        upstream = new TestUpstream("app-1", 300);
        WebConfig w = TestConfigs.web(Files.createDirectories(dir.resolve("public")), dir.resolve("var/log/web-access.log"),
                List.of(upstream.address()), Duration.ofSeconds(5));
        server = WebServer.start(new WebConfig(w.listen(), w.publicRoot(), w.locations(), w.mimeTypes(), w.upstreams(),
                w.connectTimeout(), w.readTimeout(), w.idleTimeout(), keepalive, w.accessLog(), w.admin(), w.limits(),
                w.balancing(), w.tls(), w.errorPages(), w.realIp()), TestConfigs.SITE);
        return server.port();
    }

    /** {@code clients} connections each ask for {@code /slow} at once; returns the upstream-side ports that answered. */
    private static Set<String> slowWave(int port, int clients) throws IOException {
        List<RawHttp> connections = new ArrayList<>();
        Set<String> ports = new HashSet<>();
        try {
            for (int i = 0; i < clients; i++) {
                RawHttp http = new RawHttp(port);
                connections.add(http);
                http.send(RawHttp.get("/slow", TestConfigs.WWW));
            }
            for (RawHttp http : connections) {
                RawHttp.Response res = http.read();
                assertThat(res.status()).isEqualTo(200);
                ports.add(res.header("x-remote-port"));
            }
        } finally {
            for (RawHttp http : connections) {
                http.close();
            }
        }
        return ports;
    }

    @Test
    void roundRobinOverUpstreams() throws IOException {
        upstream = new TestUpstream("app-1", 0);
        try (TestUpstream second = new TestUpstream("app-2", 0)) {
            int port = start(List.of(upstream.address(), second.address()), Duration.ofSeconds(5));
            String a = RawHttp.exchange(port, RawHttp.get("/echo", TestConfigs.WWW)).header("x-upstream");
            String b = RawHttp.exchange(port, RawHttp.get("/echo", TestConfigs.WWW)).header("x-upstream");
            assertThat(List.of(a, b)).containsExactlyInAnyOrder("app-1", "app-2");
        }
    }

    @Test
    void accessLogLineHasStatusTimeAndRequestId() throws IOException {
        int port = startWithUpstream(0, Duration.ofSeconds(5));
        RawHttp.exchange(port, "GET /echo/logged?q=1 HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: log-test\r\n"
                + "Referer: http://www.foobar.com/\r\nX-Request-Id: log-1\r\n\r\n");
        RawHttp.exchange(port, RawHttp.get("/missing-host-page", "other.example"));
        server.close();
        List<String> lines = Files.readAllLines(dir.resolve("var/log/web-access.log"));
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("127\\.0\\.0\\.1 - - \\[\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}] "
                + "\"GET /echo/logged\\?q=1 HTTP/1\\.1\" 200 \\d+ \"http://www\\.foobar\\.com/\" \"log-test\" \\d+\\.\\d{3} log-1");
        assertThat(lines.get(1)).contains("\"GET /missing-host-page HTTP/1.1\" 421 ");
    }

    @Test
    void closeLetsAnInFlightRequestFinish() throws Exception {
        int port = startWithUpstream(500, Duration.ofSeconds(5));
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/slow", TestConfigs.WWW));
            // Wait until the request reached the app server, then stop the web tier.
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (upstream.requests.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
            RawHttp.Response res = http.read();
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.text()).isEqualTo("slow");
            assertThat(res.header("connection")).isEqualTo("close");
            closing.get();
            assertThat(http.closedByServer()).isTrue();
        }
    }
}
