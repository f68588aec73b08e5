package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The web tier on each socket transport: the default is io_uring where the kernel has it, then
 * epoll; on each one a file from memory, a large file (zero-copy, corked) and a proxied answer
 * arrive byte for byte.
 */
class TransportTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        System.clearProperty(Transport.PROPERTY);
    }

    @Test
    void theDefaultIsIoUringThenEpollThenNio() {
        String expected = IoUring.isAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio";
        assertThat(Transport.best().name()).isEqualTo(expected);
        System.setProperty(Transport.PROPERTY, "epoll");
        assertThat(Transport.best().name()).isEqualTo(Epoll.isAvailable() ? "epoll" : "nio");
        System.setProperty(Transport.PROPERTY, "NIO");
        assertThat(Transport.best().name()).isEqualTo("nio");
    }

    @Test
    void ioUringReceivesIntoARingOfBuffersWhereTheKernelHasOne() {
        assumeTrue(IoUring.isAvailable(), "io_uring is not available on this platform");
        Transport uring = Transport.best();
        assertThat(uring.name()).isEqualTo("io_uring");
        assertThat(uring.socketOptions().containsKey(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID))
                .isEqualTo(IoUring.isRegisterBufferRingSupported());
        System.setProperty(Transport.PROPERTY, "epoll");
        assertThat(Transport.best().socketOptions()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void filesAndProxiedAnswersArriveWholeOnEachTransport(String transport) throws IOException {
        assumeTrue(switch (transport) {
            case "io_uring" -> IoUring.isAvailable();
            case "epoll" -> Epoll.isAvailable();
            default -> true;
        }, transport + " is not available on this platform");
        Path pub = Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(pub.resolve("small.txt"), "a small file\n");
        byte[] large = new byte[FileCache.MAX_FILE_BYTES * 3 + 12_345];
        new Random(7).nextBytes(large);
        Files.write(pub.resolve("large.bin"), large);
        System.setProperty(Transport.PROPERTY, transport);
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            WebServer server = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("access.log"),
                    List.of(app.address()), Duration.ofSeconds(5)), TestConfigs.SITE);
            try {
                assertThat(server.transport()).isEqualTo(transport);
                try (RawHttp http = new RawHttp(server.port())) {
                    // Keep-alive: the three answers one after the other on one connection.
                    http.send(RawHttp.get("/static/small.txt", "www.foobar.com"));
                    RawHttp.Response small = http.read();
                    assertThat(small.status()).isEqualTo(200);
                    assertThat(small.text()).isEqualTo("a small file\n");

                    http.send(RawHttp.get("/static/large.bin", "www.foobar.com"));
                    RawHttp.Response big = http.read();
                    assertThat(big.status()).isEqualTo(200);
                    assertThat(big.body()).isEqualTo(large);

                    http.send(RawHttp.get("/echo/hi", "www.foobar.com"));
                    RawHttp.Response proxied = http.read();
                    assertThat(proxied.status()).isEqualTo(200);
                    assertThat(proxied.header("x-upstream")).isEqualTo("app-1");
                    assertThat(new String(proxied.body(), StandardCharsets.UTF_8)).startsWith("GET /echo/hi\n");

                    // Larger than one receive buffer of the io_uring ring: a header and a body
                    // that arrive in several pieces.
                    String cookie = "a".repeat(Transport.RECV_BUFFER_BYTES * 3 + 17);
                    http.send("GET /echo/big HTTP/1.1\r\nHost: www.foobar.com\r\nCookie: " + cookie + "\r\n\r\n");
                    RawHttp.Response bigHeader = http.read();
                    assertThat(bigHeader.status()).isEqualTo(200);
                    assertThat(new String(bigHeader.body(), StandardCharsets.UTF_8)).contains("cookie: " + cookie + "\n");

                    String upload = "0123456789abcdef".repeat(20_000);
                    http.send("POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: " + upload.length()
                            + "\r\n\r\n" + upload);
                    RawHttp.Response uploaded = http.read();
                    assertThat(uploaded.status()).isEqualTo(200);
                    assertThat(new String(uploaded.body(), StandardCharsets.UTF_8)).isEqualTo(upload);
                }
            } finally {
                server.close();
            }
        }
    }
}
