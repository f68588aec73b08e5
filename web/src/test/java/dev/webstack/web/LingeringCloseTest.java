package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection the web tier closes while its client is still sending ({@link LingeringClose}): the
 * client can send all it meant to and then read the answer, instead of getting a reset half way,
 * and the connection is closed once the client stops, goes quiet, or has had the lingering time.
 */
class LingeringCloseTest {
    private static final int MIB = 1024 * 1024;
    private static final String PIECE = "x".repeat(64 * 1024);

    @TempDir
    Path dir;
    private WebServer server;

    private WebServer start(WebConfig.Limits limits, boolean tls) throws IOException {
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/a.txt"), "static a");
        WebConfig web = TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(), Duration.ofSeconds(5));
        if (tls) {
            web = web.withTls(Optional.of(new WebConfig.Tls(new HostPort("127.0.0.1", 0),
                    dir.resolve("var/tls/web.crt"), dir.resolve("var/tls/web.key"), true)));
        }
        server = WebServer.start(web, TestConfigs.SITE, limits);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String post(String path, long length, String extraHeaders) {
        return "POST " + path + " HTTP/1.1\r\nHost: " + TestConfigs.WWW + "\r\nContent-Length: " + length + "\r\n"
                + extraHeaders + "\r\n";
    }

    /** Writes {@code bytes} of body in 64 KiB pieces; blocks while the server does not read. */
    private static void sendBody(RawHttp http, long bytes) throws IOException {
        for (long sent = 0; sent < bytes; sent += PIECE.length()) {
            http.send(PIECE);
        }
    }

    /** Sends {@code head} and {@code bodyBytes} of body, all of it, then reads the answer, and checks the FIN after it. */
    private static RawHttp.Response sendAllThenRead(RawHttp http, String head, long bodyBytes) throws IOException {
        http.send(head);
        sendBody(http, bodyBytes);
        RawHttp.Response res = http.read();
        assertThat(http.closedByServer()).as("FIN after the answer").isTrue();
        return res;
    }

    @Test
    void aBodyOverTheLimitIsReadToItsEndAndTheClientReadsThe413() throws IOException {
        start(WebConfig.Limits.DEFAULTS.withMaxBody(MIB), false);
        try (RawHttp http = new RawHttp(server.port())) {
            // Sixteen times what the socket buffers hold: without lingering, a reset stops the writes.
            RawHttp.Response res = sendAllThenRead(http, post("/upload", 16 * MIB, ""), 16 * MIB);
            assertThat(res.status()).isEqualTo(413);
            assertThat(res.header("connection")).isEqualTo("close");
        }
    }

    @Test
    void aStreamedBodyTheAnswerDidNotReadIsReadToItsEnd() throws IOException {
        start(WebConfig.Limits.DEFAULTS, false);
        try (RawHttp http = new RawHttp(server.port())) {
            // A static file does not take a body: 405 at once, with 8 MiB still coming.
            assertThat(sendAllThenRead(http, post("/static/a.txt", 8 * MIB, "Connection: close\r\n"), 8 * MIB).status())
                    .isEqualTo(405);
        }
    }

    @Test
    void aBodyOverTheLimitOverTlsIsReadToItsEndToo() throws Exception {
        start(WebConfig.Limits.DEFAULTS.withMaxBody(MIB), true);
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", server.tlsPort()), 5_000);
        SSLSocket tls = (SSLSocket) TrustingContext.of(dir.resolve("var/tls/web.crt")).getSocketFactory()
                .createSocket(plain, TestConfigs.WWW, server.tlsPort(), true);
        SSLParameters params = tls.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName(TestConfigs.WWW)));
        tls.setSSLParameters(params);
        tls.startHandshake();
        try (RawHttp https = new RawHttp(tls)) {
            assertThat(sendAllThenRead(https, post("/upload", 16 * MIB, ""), 16 * MIB).status()).isEqualTo(413);
        }
    }

    @Test
    void whatTheClientSendsAfterTheAnswerIsReadUntilItGoesQuietThenTheConnectionCloses() throws Exception {
        start(WebConfig.Limits.DEFAULTS.withMaxBody(MIB).withLingering(Duration.ofSeconds(30), Duration.ofMillis(500)), false);
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(post("/upload", 64 * MIB, ""));
            assertThat(http.read().status()).isEqualTo(413);
            assertThat(http.closedByServer()).isTrue();
            // Still read (and thrown away) after the answer: 8 MiB more go out without a reset.
            sendBody(http, 8 * MIB);
            assertThat(server.connections()).isEqualTo(1);
            // Quiet from here on, with the connection left open: the server closes it after the lingering timeout.
            awaitNoConnections(Duration.ofSeconds(10));
        }
    }

    @Test
    void aClientThatNeverStopsSendingIsClosedAfterTheLingeringTime() throws Exception {
        start(WebConfig.Limits.DEFAULTS.withMaxBody(MIB).withLingering(Duration.ofMillis(700), Duration.ofSeconds(30)), false);
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(post("/upload", 1024L * MIB, ""));
            assertThat(http.read().status()).isEqualTo(413);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            boolean reset = false;
            // A byte every 50 ms keeps the lingering timeout from ever running out: only the lingering time ends it.
            while (!reset && System.nanoTime() < deadline) {
                try {
                    http.send("x");
                    Thread.sleep(50);
                } catch (IOException closedByServer) {
                    reset = true;
                }
            }
            assertThat(reset).as("the server closed the connection (a write was reset)").isTrue();
            assertThat(server.connections()).isZero();
        }
    }

    @Test
    void aGracefulStopClosesALingeringConnectionAtOnce() throws Exception {
        start(WebConfig.Limits.DEFAULTS.withMaxBody(MIB), false);
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(post("/upload", 64 * MIB, ""));
            assertThat(http.read().status()).isEqualTo(413);
            assertThat(server.connections()).isEqualTo(1);
            long start = System.nanoTime();
            server.close();
            server = null;
            // Not the graceful stop's full wait for busy connections (WebServer.DRAIN_SECONDS).
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(WebServer.DRAIN_SECONDS - 2));
        }
    }

    @Test
    void aKeptAliveConnectionDoesNotLinger() throws IOException {
        start(WebConfig.Limits.DEFAULTS, false);
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(post("/static/a.txt", 3, "") + "abc");
            assertThat(http.read().status()).isEqualTo(405);
            http.send(RawHttp.get("/static/a.txt", TestConfigs.WWW));
            assertThat(http.read().text()).isEqualTo("static a");
        }
    }

    private void awaitNoConnections(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (server.connections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(server.connections()).as("connections open").isZero();
    }
}
