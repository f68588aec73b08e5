package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.WebConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestFramingGuard} checks request lines and header values in bulk within one read: the
 * same request cut into two reads at every byte must be judged as it is whole.
 */
class RequestFramingGuardSplitTest {
    private static final String GOOD = "GET /a/b?c=d HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: curl/8.0 (x)\tz\r\n"
            + "Accept: */*\r\nContent-Length: 3\r\n\r\nabc";

    /** What came out of the guard: the bytes it let through, and the status of a refusal (null if none). */
    private record Outcome(String forwarded, HttpResponseStatus refused) {}

    private static Outcome feed(String request, int cut) {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestFramingGuard(WebConfig.Limits.DEFAULTS.withMaxBody(1024)));
        byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
        ch.writeInbound(Unpooled.wrappedBuffer(bytes, 0, cut));
        if (cut < bytes.length) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut));
        }
        ByteArrayOutputStream through = new ByteArrayOutputStream();
        HttpResponseStatus refused = null;
        Object msg;
        while ((msg = ch.readInbound()) != null) {
            if (msg instanceof FullHttpRequest rejected) {
                refused = ((RequestFramingGuard.MalformedRequestException) rejected.decoderResult().cause()).status();
                rejected.release();
            } else {
                ByteBuf buf = (ByteBuf) msg;
                byte[] b = new byte[buf.readableBytes()];
                buf.readBytes(b);
                through.writeBytes(b);
                buf.release();
            }
        }
        ch.finishAndReleaseAll();
        return new Outcome(through.toString(StandardCharsets.ISO_8859_1), refused);
    }

    @Test
    void aGoodRequestGoesThroughWholeWhereverItIsCut() {
        for (int cut = 1; cut <= GOOD.length(); cut++) {
            assertThat(feed(GOOD, cut)).as("cut at %d", cut).isEqualTo(new Outcome(GOOD, null));
        }
    }

    @Test
    void aControlByteInAValueOrTheRequestLineIsFoundWhereverTheRequestIsCut() {
        String[] bad = {
            "GET /a HTTP/1.1\r\nHost: www.foobar.com\r\nX-A: abc\u0000def\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: www.foobar.com\r\nX-A: abc\u007fdef\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: www.foobar.com\r\nX-A: abc\ndef\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: www.foobar.com\r\nX-A: abc\rdef\r\n\r\n",
            "GET /a\tb HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n",
            "GET /a\u0001b HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n",
        };
        for (String request : bad) {
            for (int cut = 1; cut <= request.length(); cut++) {
                Outcome o = feed(request, cut);
                assertThat(o.refused()).as("%s cut at %d", request, cut).isEqualTo(HttpResponseStatus.BAD_REQUEST);
                assertThat(o.forwarded()).as("%s cut at %d", request, cut).isEmpty();
            }
        }
    }

    @Test
    void headerNamesAreReadWhereverTheRequestIsCut() {
        // A framing header in any case is one; a longer name that contains one is not; a bad byte in
        // a name, or whitespace before its colon, refuses the request.
        String[][] cases = {
            {"POST /a HTTP/1.1\r\nHOST: www.foobar.com\r\ncontent-LENGTH: 3\r\n\r\nabc", "pass"},
            {"POST /a HTTP/1.1\r\nHost: www.foobar.com\r\nX-Original-Content-Length: 99\r\nContent-Length: 3\r\n\r\nabc", "pass"},
            {"POST /a HTTP/1.1\r\nHost: www.foobar.com\r\nTransfer-Encoding-Hint: gzip\r\nContent-Length: 3\r\n\r\nabc", "pass"},
            {"GET /a HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n", "400"},
            {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n", "400"},
            {"GET /a HTTP/1.1\r\nHost: a\r\nX-Na(me: v\r\n\r\n", "400"},
            {"GET /a HTTP/1.1\r\nHost: a\r\nX-Long-Name-Over-Seventeen : v\r\n\r\n", "400"},
        };
        for (String[] c : cases) {
            String request = c[0];
            for (int cut = 1; cut <= request.length(); cut++) {
                Outcome o = feed(request, cut);
                if (c[1].equals("pass")) {
                    assertThat(o).as("%s cut at %d", request, cut).isEqualTo(new Outcome(request, null));
                } else {
                    assertThat(o.refused()).as("%s cut at %d", request, cut).isEqualTo(HttpResponseStatus.BAD_REQUEST);
                    assertThat(o.forwarded()).as("%s cut at %d", request, cut).isEmpty();
                }
            }
        }
    }

    @Test
    void theLimitsHoldAcrossReads() {
        String longLine = "GET /" + "a".repeat(WebConfig.Limits.MAX_REQUEST_LINE) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        String bigHeader = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(WebConfig.Limits.MAX_HEADER_SIZE) + "\r\n\r\n";
        for (int cut : new int[] {1, 7, 100, 5_000, WebConfig.Limits.MAX_REQUEST_LINE}) {
            assertThat(feed(longLine, cut).refused()).as("cut at %d", cut).isEqualTo(HttpResponseStatus.REQUEST_URI_TOO_LONG);
            assertThat(feed(bigHeader, cut).refused()).as("cut at %d", cut).isEqualTo(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
        // One byte under each limit passes.
        String longestLine = "GET /" + "a".repeat(WebConfig.Limits.MAX_REQUEST_LINE - "GET / HTTP/1.1".length())
                + " HTTP/1.1\r\nHost: x\r\n\r\n";
        assertThat(feed(longestLine, 3_000).refused()).isNull();
    }
}
