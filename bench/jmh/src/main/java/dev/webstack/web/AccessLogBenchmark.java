package dev.webstack.web;

import dev.webstack.common.config.AccessLogFormat;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Path;
import java.util.Arrays;
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
 * What one access log line costs the event loop: a request read and its answer written through
 * {@link AccessLogHandler} alone, on an {@link EmbeddedChannel}, with the log on (written to
 * {@code /dev/null} by its own thread, as shipped) and off. The difference of the two is the line:
 * its clock reads, header lookups, formatting and hand-over to the writer's buffer. The request
 * is {@code wrk}'s (a Host header and nothing else) or a browser's (a user agent and a referer).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccessLogBenchmark {
    @Param({"on", "off"})
    public String accessLogOn;

    @Param({"wrk", "browser"})
    public String client;

    private AccessLogWriter accessLog;
    private EmbeddedChannel channel;
    private FullHttpRequest request;
    private FullHttpResponse response;
    @Param({"webstack"})
    public String logFormat;

    private LogFormat format;
    private final LogFormat.Logged entry = new LogFormat.Logged();
    private final LogLine formatLine = new LogLine();

    @Setup
    public void setUp() {
        accessLog = accessLogOn.equals("on") ? AccessLogWriter.open(Path.of("/dev/null")) : AccessLogWriter.open(Optional.empty());
        // The request stops here: what follows the log in the real pipeline is not measured.
        channel = new EmbeddedChannel(new AccessLogHandler(accessLog, new RequestCounters()), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
            }
        });
        request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/static/hello.html", Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.HOST, "www.foobar.com");
        if (client.equals("browser")) {
            request.headers().set(HttpHeaderNames.USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    + "Chrome/131.0.0.0 Safari/537.36");
            request.headers().set(HttpHeaderNames.REFERER, "https://www.foobar.com/posts/42");
            request.headers().set(HttpHeaderNames.ACCEPT, "text/html,application/xhtml+xml");
            request.headers().set(HttpHeaderNames.ACCEPT_ENCODING, "gzip, deflate, br");
            request.headers().set(HttpHeaderNames.COOKIE, "sid=0123456789abcdef");
        }
        response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[200])));
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 200);

        format = new LogFormat(AccessLogFormat.parse(logFormat, AccessLogFormat.Escape.DEFAULT));
        entry.format = format;
        entry.startNanos = System.nanoTime();
        entry.method = request.method();
        entry.uri = request.uri();
        entry.version = request.protocolVersion();
        entry.status = 200;
        entry.bytes = 200;
        entry.requestHeaders = new CharSequence[format.requestHeaders().length];
        for (int i = 0; i < entry.requestHeaders.length; i++) {
            entry.requestHeaders[i] = request.headers().get(format.requestHeaders()[i]);
        }
        // The id RequestIdHandler would have given the request: an AsciiString, as there.
        int id = Arrays.asList(format.requestHeaders()).indexOf(RequestIdHandler.X_REQUEST_ID);
        if (id >= 0) {
            entry.requestHeaders[id] = RequestIdHandler.generate();
        }
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
        accessLog.close();
    }

    /**
     * The line alone: {@code LogFormat.write} of the request's entry (the shipped format) into a
     * {@link LogLine}, no channel, no writer; returns the line's length.
     */
    @Benchmark
    public int format() {
        LogLine line = formatLine.clear();
        format.write(line, entry, "127.0.0.1", false, System.nanoTime());
        return line.length();
    }

    /** One request read, its answer written; returns what the channel wrote out, so that it is not dropped. */
    @Benchmark
    public Object line() {
        channel.writeInbound(request);
        channel.writeOutbound(response);
        return channel.readOutbound();
    }
}
