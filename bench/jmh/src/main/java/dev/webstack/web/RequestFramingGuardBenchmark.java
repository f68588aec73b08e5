package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
 * The framing guard alone ({@link RequestFramingGuard}, the first handler of every HTTP/1.1
 * connection, which reads every byte of every request): one request in, its bytes out, on an
 * {@link EmbeddedChannel}. Cases: {@code wrk}, the benchmark's request (a request line and Host),
 * and {@code browser}, a GET with the twelve headers a browser sends. The setup checks that the
 * whole request comes through.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestFramingGuardBenchmark {
    private static final String WRK = "GET /index.html HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n";
    private static final String BROWSER = "GET /posts/42?page=2 HTTP/1.1\r\n"
            + "Host: www.foobar.com\r\n"
            + "Connection: keep-alive\r\n"
            + "sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n"
            + "sec-ch-ua-mobile: ?0\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
            + "Sec-Fetch-Site: same-origin\r\n"
            + "Referer: http://www.foobar.com/posts\r\n"
            + "Accept-Encoding: gzip, deflate, br\r\n"
            + "Accept-Language: en-US,en;q=0.9\r\n"
            + "Cookie: session=3q2+7wAAAAAAAAAAAAAAAA; csrf=AAECAwQFBgcICQoLDA0ODw\r\n\r\n";

    @Param({"wrk", "browser"})
    public String request;

    private EmbeddedChannel channel;
    private ByteBuf bytes;

    @Setup
    public void setUp() {
        channel = new EmbeddedChannel(
                new RequestFramingGuard(WebConfig.Limits.DEFAULTS.withHeaderTimeout(Duration.ofSeconds(60))));
        bytes = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(
                (request.equals("wrk") ? WRK : BROWSER).getBytes(StandardCharsets.ISO_8859_1)));
        int through = request();
        if (through != bytes.readableBytes()) {
            throw new IllegalStateException("the guard let " + through + " of " + bytes.readableBytes() + " bytes through");
        }
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int request() {
        channel.writeInbound(bytes.duplicate());
        Object out = channel.readInbound();
        int n = ((ByteBuf) out).readableBytes();
        ReferenceCountUtil.release(out);
        return n;
    }
}
