package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ServerCodec} against Netty's {@link HttpServerCodec}: the same requests in, the same
 * answers out, byte for byte — for ordinary responses, and for a {@link FileResponse}, whose
 * pre-encoded head must put on the wire exactly what encoding its headers one by one would.
 */
class ServerCodecTest {
    private static final String PAGE = "<!DOCTYPE html><title>hello</title><p>A small page.</p>\n";

    @TempDir
    Path root;

    @Test
    void aFileAnswerIsTheBytesNettyWouldWrite() throws IOException {
        FileCache.StaticFile file = file(List.of());
        assertThat(file.head()).isNotNull();

        String ours = answer(new ServerCodec(new HttpDecoderConfig()), "GET", fileAnswer(file, "date", "Thu, 26 Nov 2026 18:00:00 GMT"));
        String netty = answer(new HttpServerCodec(), "GET", ordinaryAnswer(file, "date", "Thu, 26 Nov 2026 18:00:00 GMT"));

        assertThat(ours).isEqualTo(netty)
                .startsWith("HTTP/1.1 200 OK\r\ncontent-type: text/html")
                .contains("\r\ncontent-length: " + PAGE.length() + "\r\n", "\r\ndate: Thu, 26 Nov 2026 18:00:00 GMT\r\n")
                .endsWith("\r\n\r\n" + PAGE);
    }

    @Test
    void aHeaderSetOnTheWayOutReplacesTheFilesOwn() throws IOException {
        // A location's headers say one HSTS policy, the TLS settings set another on the way out.
        FileCache.StaticFile file = file(List.of("strict-transport-security", "max-age=7"));

        String ours = answer(new ServerCodec(new HttpDecoderConfig()), "GET", fileAnswer(file, "strict-transport-security", "max-age=31536000"));
        String netty = answer(new HttpServerCodec(), "GET", ordinaryAnswer(file, "strict-transport-security", "max-age=31536000"));

        assertThat(ours).isEqualTo(netty).contains("\r\nstrict-transport-security: max-age=31536000\r\n").doesNotContain("max-age=7\r\n");
    }

    @Test
    void answersToHeadAndPipelinedRequestsKeepTheirOrderAndBodies() throws IOException {
        FileCache.StaticFile file = file(List.of());
        EmbeddedChannel ours = new EmbeddedChannel(new ServerCodec(new HttpDecoderConfig()), new HttpObjectAggregator(1024));
        EmbeddedChannel netty = new EmbeddedChannel(new HttpServerCodec(), new HttpObjectAggregator(1024));
        String requests = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
        ours.writeInbound(Unpooled.copiedBuffer(requests, StandardCharsets.US_ASCII));
        netty.writeInbound(Unpooled.copiedBuffer(requests, StandardCharsets.US_ASCII));
        for (EmbeddedChannel ch : List.of(ours, netty)) {
            for (int i = 0; i < 3; i++) {
                ((FullHttpRequest) ch.readInbound()).release();
            }
        }
        // A FileResponse to a HEAD (the codec, not the handler, knows the method) and ordinary answers around it.
        ours.writeOutbound(fileAnswer(file, "date", "x"), fileAnswer(file, "date", "y"), ordinaryAnswer(file, "date", "z"));
        netty.writeOutbound(ordinaryAnswer(file, "date", "x"), ordinaryAnswer(file, "date", "y"), ordinaryAnswer(file, "date", "z"));

        String wire = drain(ours);
        assertThat(wire).isEqualTo(drain(netty));
        assertThat(wire.split("HTTP/1.1 200 OK", -1)).hasSize(4);
        assertThat(wire.indexOf(PAGE)).isEqualTo(wire.lastIndexOf(PAGE)).isPositive(); // the GET's body only
        assertThat(wire).endsWith("date: z\r\n\r\n");
    }

    @Test
    void onlyAChannelWithTheCodecSaysItEncodesFileAnswers() {
        EmbeddedChannel with = new EmbeddedChannel(new ServerCodec(new HttpDecoderConfig()));
        EmbeddedChannel without = new EmbeddedChannel(new HttpServerCodec());
        assertThat(ServerCodec.encodes(with)).isTrue();
        assertThat(ServerCodec.encodes(without)).isFalse();

        with.pipeline().removeFirst(); // as a WebSocket tunnel takes the connection over
        assertThat(ServerCodec.encodes(with)).isFalse();
    }

    /** The file answer, through {@code codec}, to one request with {@code method}. */
    private static String answer(io.netty.channel.ChannelHandler codec, String method, Object response) {
        EmbeddedChannel ch = new EmbeddedChannel(codec, new HttpObjectAggregator(1024));
        ch.writeInbound(Unpooled.copiedBuffer(method + " / HTTP/1.1\r\nHost: a\r\n\r\n", StandardCharsets.US_ASCII));
        ((FullHttpRequest) ch.readInbound()).release();
        ch.writeOutbound(response);
        return drain(ch);
    }

    private static String drain(EmbeddedChannel ch) {
        StringBuilder wire = new StringBuilder();
        for (Object out; (out = ch.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) out;
            wire.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return wire.toString();
    }

    private FileCache.StaticFile file(List<String> locationHeader) throws IOException {
        Files.writeString(root.resolve("index.html"), PAGE);
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 0; i < locationHeader.size(); i += 2) {
            extra.put(locationHeader.get(i), locationHeader.get(i + 1));
        }
        FileCache cache = new FileCache(root, "public, max-age=60", extra, MimeTypes.BUILT_IN, FileCache.REVALIDATE_AFTER);
        return cache.lookup("/index.html", List.of("index.html")).orElseThrow();
    }

    private static FileResponse fileAnswer(FileCache.StaticFile file, String header, String value) {
        FileResponse res = new FileResponse(file, file.body().duplicate());
        res.headers().set(header, value);
        return res;
    }

    /** What StaticFiles answers where it cannot send a FileResponse: the file's headers copied, then the one set on the way out. */
    private static DefaultFullHttpResponse ordinaryAnswer(FileCache.StaticFile file, String header, String value) {
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, file.body().duplicate());
        res.headers().set(file.headers()).set(header, value);
        assertThat(res.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(String.valueOf(PAGE.length()));
        return res;
    }
}
