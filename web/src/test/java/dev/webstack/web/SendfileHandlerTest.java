package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringSocketChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files on io_uring go out with sendfile ({@link SendfileHandler}): whole, in order with the
 * answers around them and with the headers written just before them, and on through Netty when a
 * slow client's socket is full.
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
    void headersThatMeetAFullSocketWaitForNettyAndTheFileForThem() throws Exception {
        // The handler on a connection of its own, against a peer that reads when told: both
        // buffers small, so that the socket is full when the headers come with nothing left in Netty.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory());
        try (ServerSocket listener = new ServerSocket()) {
            listener.setReceiveBufferSize(4096);
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            Channel ch = new Bootstrap().group(group).channel(IoUringSocketChannel.class)
                    .option(ChannelOption.SO_SNDBUF, 4096)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(listener.getLocalSocketAddress()).sync().channel();
            try (Socket peer = listener.accept()) {
                peer.setSoTimeout(10_000);
                ch.eventLoop().submit(() -> SendfileHandler.install(ch)).sync();
                assertThat(ch.pipeline().get(SendfileHandler.class)).isNotNull();
                Random random = new Random(5);
                byte[] before = new byte[256 * 1024];
                random.nextBytes(before);
                byte[] head = new byte[SendfileHandler.MAX_HEAD_BYTES];
                random.nextBytes(head);
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                InputStream in = peer.getInputStream();
                byte[] chunk = new byte[1024];

                // A heap buffer, which the handler passes on to Netty. Read it until Netty has written
                // it all, slowly towards the end, so that the kernel still holds the rest then.
                ChannelFuture first = ch.writeAndFlush(Unpooled.wrappedBuffer(before));
                while (!first.isDone()) {
                    boolean nearTheEnd = got.size() > before.length - 64 * 1024;
                    if (nearTheEnd && first.await(20, TimeUnit.MILLISECONDS)) {
                        break;
                    }
                    int n = in.read(chunk, 0, nearTheEnd ? 512 : chunk.length);
                    assertThat(n).isPositive();
                    got.write(chunk, 0, n);
                }
                assertThat(got.size()).as("bytes the kernel still holds").isLessThan(before.length);
                assertThat(first.isSuccess()).isTrue();

                FileChannel file = FileChannel.open(dir.resolve("public/static/large.bin"));
                ChannelPromise headSent = ch.newPromise();
                ChannelPromise fileSent = ch.newPromise();
                ch.eventLoop().submit(() -> {
                    ch.write(ch.alloc().directBuffer(head.length).writeBytes(head), headSent);
                    ch.write(new SendfileHandler.FileBody(file, 0, large.length), fileSent);
                    ch.flush();
                }).sync();

                int total = before.length + head.length + large.length;
                while (got.size() < total) {
                    int n = in.read(chunk);
                    assertThat(n).as("bytes after %d of %d", got.size(), total).isPositive();
                    got.write(chunk, 0, n);
                }
                byte[] expected = new byte[total];
                System.arraycopy(before, 0, expected, 0, before.length);
                System.arraycopy(head, 0, expected, before.length, head.length);
                System.arraycopy(large, 0, expected, before.length + head.length, large.length);
                assertThat(got.toByteArray()).isEqualTo(expected);
                assertThat(headSent.await(5, TimeUnit.SECONDS) && headSent.isSuccess()).isTrue();
                assertThat(fileSent.await(5, TimeUnit.SECONDS) && fileSent.isSuccess()).isTrue();
                assertThat(file.isOpen()).as("the file is closed once sent").isFalse();
            } finally {
                ch.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
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
