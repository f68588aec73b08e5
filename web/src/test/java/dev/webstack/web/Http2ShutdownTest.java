package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the server ends an HTTP/2 connection ({@link Http2Shutdown}), seen frame by frame by a client
 * on Netty's frame codec that answers the server's PING only when the test says so: a first GOAWAY
 * that refuses no stream (last stream id 2^31-1) and a PING; a stream the client opens before it
 * answers is served; then a second GOAWAY naming the last stream, and the connection closes.
 */
class Http2ShutdownTest {
    private static final String SMALL = "/static/small.txt";
    private static final SiteConfig SITE = new SiteConfig("localdomain", "localhost");

    @TempDir
    Path dir;
    private WebConfig web;
    private WebServer server;
    private EventLoopGroup group;
    private Channel client;
    private Http2FrameCodec codec;
    private Recorder recorder;
    private final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    // Frames taken from the queue while waiting for another kind, in the order they came.
    private final List<String> seen = new ArrayList<>();
    private Http2PingFrame lastPing;

    @BeforeEach
    void start() throws Exception {
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public" + SMALL), "small\n");
        web = TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(), Duration.ofSeconds(5))
                .withTls(Optional.of(TestConfigs.selfSignedTls(dir)));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (server != null) {
            server.close();
        }
    }

    private void connect() throws Exception {
        SslContext ssl = SslContextBuilder.forClient()
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                .build();
        codec = Http2FrameCodecBuilder.forClient().autoAckPingFrame(false).build();
        recorder = new Recorder();
        client = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc(), "localhost", server.tlsPort()), codec, recorder);
                    }
                })
                .connect("127.0.0.1", server.tlsPort()).sync().channel();
    }

    /** Each frame the server sends, as text: "GOAWAY 2147483647 0", "PING 123", "HEADERS 3 200", "DATA 3 small\n", "CLOSED". */
    private final class Recorder extends Http2ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                switch (msg) {
                    case Http2GoAwayFrame g -> frames.add("GOAWAY " + g.lastStreamId() + " " + g.errorCode());
                    case Http2PingFrame p when !p.ack() -> {
                        lastPing = p;
                        frames.add("PING " + p.content());
                    }
                    case Http2HeadersFrame h -> frames.add("HEADERS " + h.stream().id() + " " + h.headers().status());
                    case Http2DataFrame d -> {
                        if (d.content().isReadable()) {
                            frames.add("DATA " + d.stream().id() + " " + d.content().toString(StandardCharsets.UTF_8));
                        }
                    }
                    default -> { }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            frames.add("CLOSED");
        }
    }

    /** Opens a stream with a GET of {@code path}; its id once sent. */
    private int get(String path) {
        Http2FrameStream stream = recorder.newStream();
        DefaultHttp2Headers headers = new DefaultHttp2Headers();
        headers.method("GET").scheme("https").authority("localhost").path(path);
        client.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true).stream(stream)).syncUninterruptibly();
        return stream.id();
    }

    /** The next frame that {@code wanted} matches; those before it are kept in {@link #seen}. */
    private String next(Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            String f = frames.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertThat(f).as("a frame in time; before it: " + seen).isNotNull();
            if (wanted.test(f)) {
                return f;
            }
            seen.add(f);
        }
    }

    @Test
    void aStreamOpenedBeforeTheClientAnswersThePingIsServedAndTheSecondGoAwayNamesIt() throws Exception {
        server = WebServer.start(web, SITE, WebConfig.Limits.DEFAULTS.withKeepaliveRequests(2));
        connect();
        int first = get(SMALL);
        assertThat(next(f -> f.startsWith("DATA " + first))).isEqualTo("DATA " + first + " small\n");
        int last = get(SMALL); // web.keepalive-requests: 2, the connection's last stream
        assertThat(next(f -> f.startsWith("GOAWAY"))).as("the first GOAWAY refuses nothing").isEqualTo("GOAWAY 2147483647 0");
        next(f -> f.startsWith("PING"));
        // In flight as far as the server can tell: sent before the client answered the PING.
        int inFlight = get(SMALL);
        client.writeAndFlush(new DefaultHttp2PingFrame(lastPing.content(), true)).syncUninterruptibly();
        assertThat(next(f -> f.startsWith("GOAWAY"))).as("the second GOAWAY: the last stream opened")
                .isEqualTo("GOAWAY " + inFlight + " 0");
        next(f -> f.equals("CLOSED"));
        assertThat(seen).contains("HEADERS " + last + " 200", "DATA " + last + " small\n",
                "HEADERS " + inFlight + " 200", "DATA " + inFlight + " small\n");
    }

    @Test
    void withoutTheClientsAnswerTheSecondGoAwayComesAfterAWait() throws Exception {
        server = WebServer.start(web, SITE, WebConfig.Limits.DEFAULTS.withKeepaliveRequests(1));
        connect();
        int only = get(SMALL);
        assertThat(next(f -> f.startsWith("GOAWAY"))).isEqualTo("GOAWAY 2147483647 0");
        next(f -> f.startsWith("PING")); // not answered: the server waits Http2Shutdown.PING_WAIT_MS
        assertThat(next(f -> f.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + only + " 0");
        assertThat(seen).contains("HEADERS " + only + " 200", "DATA " + only + " small\n");
        next(f -> f.equals("CLOSED"));
    }

    @Test
    void aGracefulStopGoesTheSameWayAndWaitsForTheClientToClose() throws Exception {
        server = WebServer.start(web, SITE, WebConfig.Limits.DEFAULTS);
        connect();
        int only = get(SMALL);
        assertThat(next(f -> f.startsWith("DATA " + only))).isEqualTo("DATA " + only + " small\n");
        Thread stopping = Thread.ofPlatform().start(server::close);
        assertThat(next(f -> f.startsWith("GOAWAY"))).isEqualTo("GOAWAY 2147483647 0");
        next(f -> f.startsWith("PING"));
        client.writeAndFlush(new DefaultHttp2PingFrame(lastPing.content(), true)).syncUninterruptibly();
        assertThat(next(f -> f.startsWith("GOAWAY"))).isEqualTo("GOAWAY " + only + " 0");
        client.close().syncUninterruptibly(); // the client closes first, as a browser does after a GOAWAY
        stopping.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(stopping.isAlive()).as("stopped").isFalse();
        assertThat(seen).doesNotContain("CLOSED");
        server = null;
        client = null;
    }
}
