package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files on io_uring go out with sendfile ({@link SendfileHandler}): whole, in order with the
 * answers around them, and on through Netty when a slow client's socket is full.
 */
class SendfileHandlerTest {
    /** Larger than the kernel's largest default send buffer (4 MB), so one sendfile never takes it all. */
    private static final int LARGE = 9 * 1024 * 1024 + 321;

    @TempDir
    Path dir;
    private byte[] large;
    private WebServer server;

    @BeforeEach
    void start() throws IOException {
        assumeTrue(IoUring.isAvailable() && Epoll.isAvailable(), "io_uring and Netty's epoll library are needed");
        Path pub = Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(pub.resolve("small.txt"), "a small file\n");
        large = new byte[LARGE];
        new Random(11).nextBytes(large);
        Files.write(pub.resolve("large.bin"), large);
        System.setProperty(Transport.PROPERTY, "io_uring");
        server = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("access.log"),
                List.of(), Duration.ofSeconds(5)), TestConfigs.SITE);
        assertThat(server.transport()).isEqualTo("io_uring");
    }

    @AfterEach
    void stop() {
        System.clearProperty(Transport.PROPERTY);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void nettysEpollSendFileIsReachable() {
        assertThat(SendfileHandler.available()).isTrue();
    }

    @Test
    void pipelinedFilesReachASlowClientWholeAndInOrder() throws Exception {
        try (RawHttp http = new RawHttp(server.port(), 4096)) {
            http.send(RawHttp.get("/static/large.bin", "www.foobar.com")
                    + "GET /static/large.bin HTTP/1.1\r\nHost: www.foobar.com\r\nRange: bytes=100-199999\r\n\r\n"
                    + RawHttp.get("/static/small.txt", "www.foobar.com")
                    + RawHttp.get("/static/large.bin", "www.foobar.com"));
            // The socket fills while nobody reads: the rest of the file must wait for the client.
            Thread.sleep(300);

            RawHttp.Response whole = http.read();
            assertThat(whole.status()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(large);

            RawHttp.Response part = http.read();
            assertThat(part.status()).isEqualTo(206);
            assertThat(part.header("content-range")).isEqualTo("bytes 100-199999/" + LARGE);
            assertThat(part.body()).isEqualTo(Arrays.copyOfRange(large, 100, 200_000));

            RawHttp.Response small = http.read();
            assertThat(small.status()).isEqualTo(200);
            assertThat(new String(small.body(), StandardCharsets.UTF_8)).isEqualTo("a small file\n");

            RawHttp.Response again = http.read();
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.body()).isEqualTo(large);
        }
    }

    @Test
    void clientsThatDoNotReadStallNobodyElse() throws Exception {
        // More stalled clients than event loops: a sendfile that waited for its client would hold
        // every loop, and the last client would get no answer until the others read.
        List<RawHttp> stalled = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                RawHttp http = new RawHttp(server.port(), 4096);
                stalled.add(http);
                http.send(RawHttp.get("/static/large.bin", "www.foobar.com"));
            }
            Thread.sleep(200);
            for (int i = 0; i < 6; i++) {
                try (RawHttp http = new RawHttp(server.port())) {
                    http.send(RawHttp.get("/static/small.txt", "www.foobar.com"));
                    RawHttp.Response small = http.read();
                    assertThat(small.status()).isEqualTo(200);
                    assertThat(new String(small.body(), StandardCharsets.UTF_8)).isEqualTo("a small file\n");
                }
            }
            RawHttp.Response late = stalled.getFirst().read();
            assertThat(late.body()).isEqualTo(large);
        } finally {
            for (RawHttp http : stalled) {
                http.close();
            }
        }
    }

    @Test
    void aClientThatLeavesMidFileLeavesTheServerServing() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (RawHttp http = new RawHttp(server.port(), 4096)) {
                http.send(RawHttp.get("/static/large.bin", "www.foobar.com"));
                Thread.sleep(50);
            }
        }
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(RawHttp.get("/static/large.bin", "www.foobar.com"));
            RawHttp.Response whole = http.read();
            assertThat(whole.status()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(large);
        }
    }
}
