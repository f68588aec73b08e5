package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * The 200 answer of a file held in memory, on an HTTP/1.x connection: its status line and the
 * file's headers were encoded once, when the file was read ({@link #head}), and {@link ServerCodec}
 * writes those bytes as they are, then the headers the handlers set on the way out (Date,
 * X-Request-Id, Connection, HSTS), then the body, into one buffer. What that saves per answer is
 * the copy of the file's headers into the response and their encoding, name by name: about a tenth
 * of the web tier's own CPU time on a small file (see {@code bench/README.md}).
 *
 * <p>{@link #headers()} holds only what the handlers set, so read the file's own headers from
 * {@link #file()}. A header set on the way out that the file's headers have too replaces it, as it
 * would on an ordinary response: the answer is then encoded header by header
 * ({@link #encode}). HTTP/2 encodes headers per stream (HPACK), so {@link StaticFiles} builds
 * ordinary responses there, and wherever {@link ServerCodec} is not the connection's codec.
 */
final class FileResponse extends DefaultFullHttpResponse {
    private static final String STATUS_LINE = "HTTP/1.1 200 OK\r\n";
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] COLON_SPACE = {':', ' '};

    private final FileCache.StaticFile file;

    /** The answer of {@code file} (in memory, with its {@link FileCache.StaticFile#head()}) sending {@code body}. */
    FileResponse(FileCache.StaticFile file, ByteBuf body) {
        super(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body, new DefaultHttpHeaders(false), EmptyHttpHeaders.INSTANCE);
        this.file = file;
    }

    FileCache.StaticFile file() {
        return file;
    }

    /** The status line of a 200 and {@code headers}, as they go on the wire: what {@link FileCache} keeps of an in-memory file. */
    static byte[] head(HttpHeaders headers) {
        StringBuilder text = new StringBuilder(256).append(STATUS_LINE);
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            text.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
        }
        // ISO-8859-1, as Netty's encoder writes a header's characters.
        return text.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * The whole answer as it goes on the wire, without the body when {@code withBody} is false
     * (the answer to a HEAD). Leaves this response as it is; the caller releases it.
     */
    ByteBuf encode(ByteBufAllocator alloc, boolean withBody) {
        HttpHeaders added = headers();
        int addedBytes = 0;
        boolean replaces = false;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = added.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            addedBytes += header.getKey().length() + header.getValue().length() + 4;
            replaces |= file.headers().contains(header.getKey());
        }
        ByteBuf body = content();
        int bodyBytes = withBody ? body.readableBytes() : 0;
        if (replaces) {
            HttpHeaders all = new DefaultHttpHeaders(false).set(file.headers());
            added.names().forEach(all::remove);
            all.add(added);
            byte[] head = head(all);
            return alloc.buffer(head.length + 2 + bodyBytes).writeBytes(head).writeBytes(CRLF)
                    .writeBytes(body, body.readerIndex(), bodyBytes);
        }
        byte[] head = file.head();
        ByteBuf buf = alloc.buffer(head.length + addedBytes + 2 + bodyBytes).writeBytes(head);
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = added.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            buf.writeCharSequence(header.getKey(), StandardCharsets.ISO_8859_1);
            buf.writeBytes(COLON_SPACE);
            buf.writeCharSequence(header.getValue(), StandardCharsets.ISO_8859_1);
            buf.writeBytes(CRLF);
        }
        return buf.writeBytes(CRLF).writeBytes(body, body.readerIndex(), bodyBytes);
    }

    /** The same answer with {@code content} (the same bytes: {@link #copy()}, {@link #duplicate()}), keeping what it is. */
    @Override
    public FileResponse replace(ByteBuf content) {
        FileResponse copy = new FileResponse(file, content);
        copy.headers().set(headers());
        copy.setDecoderResult(decoderResult());
        return copy;
    }
}
