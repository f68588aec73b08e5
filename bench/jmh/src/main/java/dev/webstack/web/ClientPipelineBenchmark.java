package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One keep-alive request through the real {@link ClientPipeline}, in memory: the raw request bytes
 * in (framing guard, HTTP decoder, pipelining, request id, access log, virtual host, locations, the
 * static answer) and the encoded response bytes out, on an {@link EmbeddedChannel} whose event loop
 * is the benchmark thread. What is left out is the socket: the syscalls and the event loop's
 * wake-ups, which the {@code bench/web} comparison with nginx measures.
 *
 * <p>Cases: {@code /static/hello.html}, a 200-byte page from the file cache (the "small static"
 * case of {@code bench/web}), and {@code /static/missing.css}, a 404 answered from memory; each
 * with the access log on, as shipped (written to {@code /dev/null} by its own thread), and off.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ClientPipelineBenchmark {
    private static final String HELLO = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hello</title></head>\n"
            + "<body><h1>Hello from www.foobar.com</h1><p>A small static page, served from memory.</p></body></html>\n";

    @Param({"/static/hello.html", "/static/missing.css"})
    public String path;

    /** The access log on (as shipped) or off: the difference is what a line costs the event loop. */
    @Param({"on", "off"})
    public String accessLogOn;

    private Path root;
    private AccessLogWriter accessLog;
    private EmbeddedChannel channel;
    // Sent as a duplicate each time; unreleasable, so the decoder's release leaves it whole.
    private ByteBuf request;

    @Setup
    public void setUp() throws IOException {
        root = Files.createTempDirectory("webstack-jmh-");
        Files.createDirectories(root.resolve("static"));
        Files.writeString(root.resolve("static/hello.html"), HELLO);
        accessLog = accessLogOn.equals("on") ? AccessLogWriter.open(Path.of("/dev/null")) : AccessLogWriter.open(Optional.empty());
        ClientPipeline pipeline = new ClientPipeline(
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
                Duration.ofSeconds(60),
                accessLog,
                new VirtualHosts(new SiteConfig("foobar.com", "www.foobar.com")),
                new LocationHandler(new Locations(List.of(LocationConfig.staticPath("/static/", root), LocationConfig.proxyAll()),
                        MimeTypes.BUILT_IN)),
                new UpstreamGroup(List.of(), BalancerSettings.defaults()),
                new UpstreamPool(Transport.nio(), Duration.ofSeconds(1), WebConfig.DEFAULT_UPSTREAM_KEEPALIVE),
                Duration.ofSeconds(1));
        channel = new EmbeddedChannel(pipeline);
        byte[] bytes = ("GET " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        request = Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
        check();
    }

    /** The benchmark measures the right answer: the file's 200, or the 404, on a connection kept open. */
    private void check() {
        StringBuilder response = new StringBuilder();
        channel.writeInbound(request.duplicate());
        channel.runPendingTasks();
        Object msg;
        while ((msg = channel.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) msg;
            response.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        String expected = path.endsWith("hello.html") ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 404 Not Found\r\n";
        if (!response.toString().startsWith(expected) || !channel.isOpen()
                || (path.endsWith("hello.html") && !response.toString().endsWith("\r\n\r\n" + HELLO))) {
            throw new IllegalStateException("unexpected answer to " + path + ":\n" + response);
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        channel.finishAndReleaseAll();
        accessLog.close();
        TempFolders.delete(root);
    }

    /** One request in, its response out; returns the response's size. */
    @Benchmark
    public int request() {
        channel.writeInbound(request.duplicate());
        channel.runPendingTasks();
        int bytes = 0;
        Object msg;
        while ((msg = channel.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) msg;
            bytes += buf.readableBytes();
            buf.release();
        }
        return bytes;
    }
}
