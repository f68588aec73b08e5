package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import dev.webstack.common.config.WebConfig;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client pipeline in memory: framing, ordering, limits and the answers that need no app server. */
class ClientPipelineTest {
    private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3}) ", Pattern.MULTILINE);

    @TempDir
    Path dir;
    private AccessLogWriter accessLog;
    private ClientPipeline pipeline;

    @BeforeEach
    void setUp() {
        accessLog = AccessLogWriter.open(dir.resolve("log/access.log"));
        pipeline = new ClientPipeline(
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
                Duration.ofSeconds(60),
                accessLog,
                new VirtualHosts(TestConfigs.SITE),
                new LocationHandler(new Locations(List.of(LocationConfig.staticPath("/static/", dir.resolve("public"))), MimeTypes.BUILT_IN)),
                new UpstreamGroup(List.of(), BalancerSettings.defaults()),
                new UpstreamPool(Transport.nio(), Duration.ofSeconds(1), WebConfig.DEFAULT_UPSTREAM_KEEPALIVE),
                Duration.ofSeconds(1));
    }

    @AfterEach
    void tearDown() {
        accessLog.close();
    }

    /** Feeds {@code parts} one after the other and returns everything the pipeline wrote. */
    private String exchange(EmbeddedChannel ch, String... parts) {
        for (String part : parts) {
            ch.writeInbound(Unpooled.copiedBuffer(part, StandardCharsets.ISO_8859_1));
            ch.runPendingTasks();
        }
        ch.runPendingTasks();
        StringBuilder out = new StringBuilder();
        Object msg;
        while ((msg = ch.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) msg;
            out.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return out.toString();
    }

    private static List<Integer> statuses(String responses) {
        List<Integer> codes = new ArrayList<>();
        Matcher m = STATUS.matcher(responses);
        while (m.find()) {
            codes.add(Integer.parseInt(m.group(1)));
        }
        return codes;
    }

    @Test
    void healthAnswersForAnyHost() {
        String out = exchange(new EmbeddedChannel(pipeline), RawHttp.get("/-/health", "anything.example"));
        assertThat(out).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok\n");
    }

    @Test
    void appServersInternalEndpointsAreNotPublic() {
        String out = exchange(new EmbeddedChannel(pipeline),
                RawHttp.get("/-/ready", TestConfigs.WWW) + RawHttp.get("/-/live", TestConfigs.WWW));
        assertThat(statuses(out)).containsExactly(404, 404);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        String out = exchange(new EmbeddedChannel(pipeline),
                RawHttp.get("/-/health", TestConfigs.WWW)
                        + RawHttp.get("/x", "other.example")
                        + RawHttp.get("/a?b=c", "foobar.com")
                        + RawHttp.get("/static/missing.css", TestConfigs.WWW)
                        + RawHttp.get("/app", TestConfigs.WWW));
        assertThat(statuses(out)).containsExactly(200, 421, 301, 404, 502);
        assertThat(out).containsIgnoringCase("Location: http://www.foobar.com/a?b=c\r\n");
    }

    @Test
    void aRequestSplitAtAnyByteGetsTheSameAnswer() {
        String request = "GET /-/health?probe=1 HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: split-test\r\n\r\n";
        for (int i = 1; i < request.length(); i++) {
            EmbeddedChannel ch = new EmbeddedChannel(pipeline);
            String out = exchange(ch, request.substring(0, i), request.substring(i));
            assertThat(statuses(out)).as("split at %d", i).containsExactly(200);
            assertThat(ch.isOpen()).as("kept alive, split at %d", i).isTrue();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void tooLongRequestLineIs414AndCloses() {
        EmbeddedChannel ch = new EmbeddedChannel(pipeline);
        String out = exchange(ch, RawHttp.get("/" + "a".repeat(WebConfig.Limits.MAX_REQUEST_LINE), TestConfigs.WWW));
        assertThat(statuses(out)).containsExactly(414);
        assertThat(out).containsIgnoringCase("Connection: close\r\n");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void tooLargeHeadersAre431AndClose() {
        EmbeddedChannel ch = new EmbeddedChannel(pipeline);
        String out = exchange(ch, "GET / HTTP/1.1\r\nHost: www.foobar.com\r\nX-Big: "
                + "b".repeat(WebConfig.Limits.MAX_HEADER_SIZE) + "\r\n\r\n");
        assertThat(statuses(out)).containsExactly(431);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void garbageIs400AndCloses() {
        EmbeddedChannel ch = new EmbeddedChannel(pipeline);
        String out = exchange(ch, "GET / HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: nope\r\n\r\n");
        assertThat(statuses(out)).containsExactly(400);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void missingHostInHttp11Is400() {
        EmbeddedChannel ch = new EmbeddedChannel(pipeline);
        String out = exchange(ch, "GET / HTTP/1.1\r\n\r\n");
        assertThat(statuses(out)).containsExactly(400);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void connectionCloseIsHonoured() {
        EmbeddedChannel ch = new EmbeddedChannel(pipeline);
        String out = exchange(ch, "GET /-/health HTTP/1.1\r\nHost: www.foobar.com\r\nConnection: close\r\n\r\n");
        assertThat(out).containsIgnoringCase("Connection: close\r\n");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void http10KeepsAliveOnlyWhenAsked() {
        EmbeddedChannel plain = new EmbeddedChannel(pipeline);
        exchange(plain, "GET /-/health HTTP/1.0\r\n\r\n");
        assertThat(plain.isOpen()).isFalse();

        EmbeddedChannel keep = new EmbeddedChannel(pipeline);
        String out = exchange(keep, "GET /-/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertThat(out).containsIgnoringCase("Connection: keep-alive\r\n");
        assertThat(keep.isOpen()).isTrue();
        keep.finishAndReleaseAll();
    }

    @Test
    void everyResponseCarriesARequestId() {
        String out = exchange(new EmbeddedChannel(pipeline),
                "GET /-/health HTTP/1.1\r\nHost: www.foobar.com\r\nX-Request-Id: abc-123\r\n\r\n"
                        + "GET /-/health HTTP/1.1\r\nHost: www.foobar.com\r\nX-Request-Id: bad id\"\r\n\r\n");
        assertThat(out).containsIgnoringCase("x-request-id: abc-123\r\n");
        assertThat(out).containsPattern("x-request-id: [0-9a-f]{32}\r\n");
    }

    @Test
    void unknownHostGetsAnErrorPageNotTheSite() {
        String out = exchange(new EmbeddedChannel(pipeline), RawHttp.get("/static/app.css", "evil.example"));
        assertThat(statuses(out)).containsExactly(421);
        assertThat(out).containsIgnoringCase("Content-Type: text/html; charset=utf-8").containsIgnoringCase("421 Misdirected Request");
    }

    @Test
    void tooLargeBodyIs413() {
        EmbeddedChannel ch = new EmbeddedChannel(pipeline);
        String out = exchange(ch, "POST /form HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: "
                + (ClientPipeline.MAX_BODY + 1) + "\r\n\r\n");
        assertThat(statuses(out)).containsExactly(413);
        ch.finishAndReleaseAll();
    }

    @Test
    void idleConnectionsAreClosed() {
        EmbeddedChannel idle = new EmbeddedChannel(pipeline);
        exchange(idle, RawHttp.get("/-/health", TestConfigs.WWW));
        idle.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(idle.isOpen()).isFalse();

        // A request without its end yet is not "between requests": the codec holds it, the
        // connection is not busy either, so idle closes it too (slow-loris protection).
        EmbeddedChannel partial = new EmbeddedChannel(pipeline);
        exchange(partial, "GET / HTTP/1.1\r\nHost: www.foo");
        partial.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(partial.isOpen()).isFalse();
    }
}
