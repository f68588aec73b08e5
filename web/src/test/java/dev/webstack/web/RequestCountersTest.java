package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests are counted by the final status of their answer, with the access log on or off. */
class RequestCountersTest {
    @TempDir
    Path dir;

    private static EmbeddedChannel channel(AccessLogWriter log, RequestCounters counters) {
        return new EmbeddedChannel(new AccessLogHandler(log, counters), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
            }
        });
    }

    private static void exchange(EmbeddedChannel ch, Object... answer) {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x", Unpooled.EMPTY_BUFFER));
        for (Object part : answer) {
            ch.writeOutbound(part);
        }
        for (Object out; (out = ch.readOutbound()) != null; ) {
            ReferenceCountUtil.release(out);
        }
    }

    private static DefaultFullHttpResponse full(HttpResponseStatus status) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
    }

    @Test
    void eachRequestCountsOnceByTheClassOfItsFinalStatusLogOnOrOff() {
        for (Optional<Path> file : java.util.List.of(Optional.<Path>empty(), Optional.of(dir.resolve("access.log")))) {
            RequestCounters counters = new RequestCounters();
            try (AccessLogWriter log = AccessLogWriter.open(file)) {
                EmbeddedChannel ch = channel(log, counters);
                exchange(ch, full(HttpResponseStatus.OK));
                exchange(ch, full(HttpResponseStatus.NOT_FOUND));
                exchange(ch, full(HttpResponseStatus.MOVED_PERMANENTLY));
                // A head, then the body: one request, counted when its last part is written.
                exchange(ch, new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY), LastHttpContent.EMPTY_LAST_CONTENT);
                // A WebSocket handshake's answer is final: 1xx.
                exchange(ch, full(HttpResponseStatus.SWITCHING_PROTOCOLS));
                // The client leaves before any answer: 499, a 4xx.
                ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/gone", Unpooled.EMPTY_BUFFER));
                ch.close();
            }
            String what = file.isPresent() ? "log on" : "log off";
            assertThat(counters.answered(1)).as(what).isEqualTo(1);
            assertThat(counters.answered(2)).as(what).isEqualTo(1);
            assertThat(counters.answered(3)).as(what).isEqualTo(1);
            assertThat(counters.answered(4)).as(what).isEqualTo(2);
            assertThat(counters.answered(5)).as(what).isEqualTo(1);
        }
    }
}
