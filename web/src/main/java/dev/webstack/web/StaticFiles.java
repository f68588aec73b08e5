package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.stream.ChunkedNioFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers requests from the files of one folder: what a {@code root:} location does once
 * {@link LocationHandler} chose it and checked the method and the path.
 *
 * <ul>
 *   <li>Which file: {@link FileCache} (the real path must lie inside the real root; small files are
 *       served from memory with precomputed headers, re-checked against the disk every second).
 *       Directories, missing and unreadable files are not found, and the caller answers 404 or
 *       proxies ({@code try-files}); a directory is first offered to {@link #isDirectory}, for the
 *       caller's redirect to the path with a '/', or its 403 for a folder without an index file.</li>
 *   <li>Content coding: a precompressed {@code .br} or {@code .gz} sibling when {@code Accept-Encoding}
 *       allows it, else a gzip copy kept with a cached compressible file; {@code Vary: Accept-Encoding}
 *       on compressible types and encoded answers.</li>
 *   <li>Validators: {@code Last-Modified} and a strong {@code ETag} from size and modification time.
 *       Preconditions are evaluated in the order of RFC 9110 section 13.2.2: {@code If-Match} (strong
 *       comparison) else {@code If-Unmodified-Since}, failing → 412; then {@code If-None-Match} (weak
 *       comparison) else {@code If-Modified-Since}, failing → 304; then {@code If-Range}.</li>
 *   <li>One byte range per request (see {@link ByteRange}), honoured only for GET and only when an
 *       {@code If-Range} is absent or matches; 206 with {@code Content-Range}, 416 with
 *       {@code Content-Range: bytes *}{@code /size}.</li>
 *   <li>{@code Cache-Control} of the location, default {@value LocationConfig#DEFAULT_CACHE_CONTROL},
 *       and the location's {@code headers} ({@link FileCache#answerHeaders()}). The body of a file not held in memory is a
 *       zero-copy {@link DefaultFileRegion}, which closes the file when written.</li>
 * </ul>
 */
final class StaticFiles {
    /** Bytes read per chunk of a file sent over TLS: four full TLS records. */
    private static final int TLS_CHUNK = 64 * 1024;
    private static final String[][] SIBLINGS = {{"br", ".br"}, {"gzip", ".gz"}};
    private static final Logger log = LoggerFactory.getLogger(StaticFiles.class);

    private final FileCache cache;
    // What a precompressed sibling makes of its file (asEncodingOf, with its head encoded), by the
    // sibling's key: made again when either entry was checked against the disk since (a second).
    private final ConcurrentHashMap<String, Encoded> encoded = new ConcurrentHashMap<>();

    private record Encoded(FileCache.StaticFile sibling, FileCache.StaticFile original, FileCache.StaticFile representation) {}

    StaticFiles(FileCache cache) {
        this.cache = cache;
    }

    /**
     * Answers a GET or HEAD for the file {@code segments} (safe, see {@link RequestPaths#safeSegments})
     * name; {@code key} is the raw path they came from. Returns false, having written nothing, when
     * there is no such file.
     */
    boolean serve(ChannelHandlerContext ctx, FullHttpRequest req, String key, List<String> segments) {
        Optional<FileCache.StaticFile> found = cache.lookup(key, segments);
        if (found.isEmpty()) {
            return false;
        }
        boolean head = req.method().equals(HttpMethod.HEAD);
        HttpHeaders h = req.headers();
        String acceptEncoding = h.get(HttpHeaderNames.ACCEPT_ENCODING);
        FileCache.StaticFile file = negotiate(found.get(), key, segments, acceptEncoding);

        switch (preconditions(h, file)) {
            case FAILED -> {
                FullHttpResponse res = Responses.page(ctx.alloc(), HttpResponseStatus.PRECONDITION_FAILED,
                        "The file does not match the request's preconditions.");
                res.headers().set(HttpHeaderNames.ETAG, file.etag()).set(HttpHeaderNames.LAST_MODIFIED, file.lastModified());
                ctx.writeAndFlush(res);
                return true;
            }
            case NOT_MODIFIED -> {
                FullHttpResponse res = Responses.empty(ctx.alloc(), HttpResponseStatus.NOT_MODIFIED);
                res.headers().set(HttpHeaderNames.ETAG, file.etag())
                        .set(HttpHeaderNames.LAST_MODIFIED, file.lastModified())
                        .add(cache.answerHeaders());
                ctx.writeAndFlush(res);
                return true;
            }
            case PROCEED -> {
                // answered below
            }
        }

        long size = file.size();
        ByteRange range = new ByteRange.Full();
        String rangeHeader = h.get(HttpHeaderNames.RANGE);
        if (!head && rangeHeader != null && ifRangeHolds(h.get(HttpHeaderNames.IF_RANGE), file.etag(), file.lastModified())) {
            range = ByteRange.parse(rangeHeader, size);
        }
        if (range instanceof ByteRange.Unsatisfiable) {
            FullHttpResponse res = Responses.page(ctx.alloc(), HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    "The requested range is outside the file.");
            res.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
            ctx.writeAndFlush(res);
            return true;
        }
        long first = 0;
        long length = size;
        HttpResponseStatus status = HttpResponseStatus.OK;
        if (range instanceof ByteRange.Partial p) {
            first = p.first();
            length = p.length();
            status = HttpResponseStatus.PARTIAL_CONTENT;
        }
        if (range instanceof ByteRange.Full && file.gzipWhileSending() && acceptEncoding != null
                && accepts(acceptEncoding, "gzip")) {
            // Compressed while it is sent: no length known ahead, no ranges, a weak validator (as nginx).
            HttpHeaders gzipHeaders = new DefaultHttpHeaders(false).set(file.headers())
                    .remove(HttpHeaderNames.CONTENT_LENGTH)
                    .remove(HttpHeaderNames.ACCEPT_RANGES)
                    .set(HttpHeaderNames.CONTENT_ENCODING, HttpHeaderValues.GZIP)
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                    .set(HttpHeaderNames.ETAG, "W/" + file.etag());
            if (head) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.EMPTY_BUFFER, gzipHeaders, EmptyHttpHeaders.INSTANCE));
                return true;
            }
            return GzipFileStream.send(ctx, file.path(), new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, gzipHeaders));
        }
        if (head || file.inMemory()) {
            // In-memory files are at most FileCache.MAX_FILE_BYTES long, so the int casts hold.
            ByteBuf body = head ? Unpooled.EMPTY_BUFFER : file.body().retainedSlice((int) first, (int) length);
            if (!head && range instanceof ByteRange.Full && file.head() != null && ServerCodec.encodes(ctx.channel())) {
                // The hot case: the status line and headers were encoded when the file was read.
                ctx.writeAndFlush(new FileResponse(file, body));
                return true;
            }
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            setHeaders(res, file, status, first, length);
            ctx.writeAndFlush(res);
            return true;
        }
        FileChannel channel = open(file.path());
        if (channel == null) {
            return false;
        }
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        setHeaders(res, file, status, first, length);
        if (Tls.isSecure(ctx.channel())) {
            // sendfile cannot encrypt: the file is read in chunks as the connection takes them (ChunkedWriteHandler).
            ctx.write(res);
            try {
                ChunkedNioFile chunks = new ChunkedNioFile(channel, first, length, TLS_CHUNK);
                if (ctx.channel() instanceof Http2StreamChannel) {
                    // HTTP/2: the stream's converter takes HTTP messages only; the input ends with the last one.
                    ctx.writeAndFlush(new HttpChunkedInput(chunks));
                    return true;
                }
                ctx.write(chunks);
            } catch (IOException e) {
                log.debug("static {}: {}", file.path(), e.toString());
                ctx.close(); // the headers are out: the client sees a short answer, not a wrong one
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // closing a file we only read
                }
                return true;
            }
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            return true;
        }
        // Zero-copy: sendfile(2), by Netty on epoll and by SendfileHandler on io_uring.
        SendfileHandler.install(ctx.channel());
        DefaultFileRegion body = new SendfileHandler.FileBody(channel, first, length);
        // Corked while the headers and the file go out, like nginx's tcp_nopush: the file then fills
        // whole segments (1 MB over loopback: about 1.6x the answers per second uncorked).
        boolean corked = Transport.cork(ctx.channel(), true);
        ctx.write(res);
        ctx.write(body);
        ChannelFuture sent = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (corked) {
            sent.addListener(f -> Transport.cork(ctx.channel(), false));
        }
        return true;
    }

    /** {@code path} opened for reading, without following a link; null (logged) when it cannot be. */
    static FileChannel open(Path path) {
        try {
            return FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            log.debug("static {}: {}", path, e.toString());
            return null;
        }
    }

    /** {@code sibling} as the {@code coding} of {@code original}, made once for each pair of their cache entries. */
    private FileCache.StaticFile encoded(String siblingKey, FileCache.StaticFile sibling, FileCache.StaticFile original, String coding) {
        Encoded known = encoded.get(siblingKey);
        if (known != null && known.sibling() == sibling && known.original() == original) {
            return known.representation();
        }
        FileCache.StaticFile representation = sibling.asEncodingOf(original, coding);
        encoded.put(siblingKey, new Encoded(sibling, original, representation));
        return representation;
    }

    /**
     * Whether the raw path {@code key}, which {@link #serve} found no file at, names a directory
     * inside the root (real path checked, so a link out of the root is none).
     */
    boolean isDirectory(String key, List<String> segments) {
        return cache.isDirectory(key, segments);
    }

    /** The folder {@code segments} name inside the root, for its listing (see {@link DirectoryListing}); empty for none. */
    Optional<Path> directory(List<String> segments) {
        return cache.directory(segments);
    }

    /** The root's real path. */
    Path rootPath() throws IOException {
        return cache.rootPath();
    }

    /**
     * The representation to send (like nginx's {@code gzip_static}): a precompressed sibling
     * ({@code .br}, then {@code .gz}) when the client accepts its coding, else the cached gzip copy
     * of a compressible file, else the file as is.
     */
    private FileCache.StaticFile negotiate(FileCache.StaticFile file, String rawPath, List<String> segments, String acceptEncoding) {
        if (acceptEncoding == null) {
            return file;
        }
        for (String[] coding : SIBLINGS) {
            if (accepts(acceptEncoding, coding[0])) {
                List<String> siblingSegments = new ArrayList<>(segments);
                siblingSegments.set(siblingSegments.size() - 1, segments.getLast() + coding[1]);
                String siblingKey = rawPath + coding[1];
                Optional<FileCache.StaticFile> sibling = cache.lookup(siblingKey, siblingSegments);
                if (sibling.isPresent()) {
                    return encoded(siblingKey, sibling.get(), file, coding[0]);
                }
                encoded.remove(siblingKey); // gone from the disk: its bytes are not kept here either
            }
        }
        if (file.gzipped().isPresent() && accepts(acceptEncoding, "gzip")) {
            return file.gzipped().get();
        }
        return file;
    }

    /** Whether an Accept-Encoding value (RFC 9110 section 12.5.3) accepts {@code coding}: listed or {@code *}, q above 0. */
    static boolean accepts(String acceptEncoding, String coding) {
        for (String element : acceptEncoding.split(",")) {
            String[] parts = element.split(";");
            String name = parts[0].trim();
            if (!name.equalsIgnoreCase(coding) && !name.equals("*")) {
                continue;
            }
            for (int i = 1; i < parts.length; i++) {
                String param = parts[i].trim();
                if (param.regionMatches(true, 0, "q=", 0, 2) && param.substring(2).trim().matches("0(\\.0{0,3})?")) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private static void setHeaders(HttpResponse res, FileCache.StaticFile file, HttpResponseStatus status,
                                   long first, long length) {
        res.headers().set(file.headers());
        if (status.equals(HttpResponseStatus.PARTIAL_CONTENT)) {
            res.headers().set(HttpHeaderNames.CONTENT_LENGTH, length)
                    .set(HttpHeaderNames.CONTENT_RANGE, "bytes " + first + "-" + (first + length - 1) + "/" + file.size());
        }
    }

    /** What the conditional headers of a request make of it (RFC 9110 section 13.2.2). */
    enum Precondition { PROCEED, NOT_MODIFIED, FAILED }

    /**
     * The preconditions of a GET or HEAD in the order of RFC 9110 section 13.2.2: If-Match, else
     * If-Unmodified-Since (412 when false); then If-None-Match, else If-Modified-Since (304 when
     * false). If-Range is evaluated with the range. An unparseable date is ignored, as the RFC says.
     */
    static Precondition preconditions(HttpHeaders h, FileCache.StaticFile file) {
        String im = h.get(HttpHeaderNames.IF_MATCH);
        if (im != null) {
            if (!strongListMatches(im, file.etag())) {
                return Precondition.FAILED;
            }
        } else {
            String ius = h.get(HttpHeaderNames.IF_UNMODIFIED_SINCE);
            Date since = ius == null ? null : DateFormatter.parseHttpDate(ius);
            if (since != null && file.mtimeSeconds() > since.getTime() / 1_000) {
                return Precondition.FAILED;
            }
        }
        String inm = h.get(HttpHeaderNames.IF_NONE_MATCH);
        if (inm != null) {
            return etagListMatches(inm, file.etag()) ? Precondition.NOT_MODIFIED : Precondition.PROCEED;
        }
        String ims = h.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        Date since = ims == null ? null : DateFormatter.parseHttpDate(ims);
        return since != null && file.mtimeSeconds() <= since.getTime() / 1_000 ? Precondition.NOT_MODIFIED : Precondition.PROCEED;
    }

    /**
     * Strong comparison (RFC 9110 section 8.8.3.2) of {@code etag} against a list or {@code *}: weak
     * tags never match. {@code *} stands only alone (section 13.1.1): in a list it is no tag, and
     * matches nothing, as nginx reads it.
     */
    static boolean strongListMatches(String list, String etag) {
        if (list.trim().equals("*")) {
            return true;
        }
        for (String candidate : list.split(",")) {
            String c = candidate.trim();
            if (c.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    /** Weak comparison (RFC 9110 section 8.8.3.2) of {@code etag} against a list or {@code *} alone. */
    static boolean etagListMatches(String list, String etag) {
        if (list.trim().equals("*")) {
            return true;
        }
        String ours = opaque(etag);
        for (String candidate : list.split(",")) {
            String c = candidate.trim();
            if (opaque(c).equals(ours)) {
                return true;
            }
        }
        return false;
    }

    private static String opaque(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }

    /** If-Range (RFC 9110 section 13.1.5): a strong match of the ETag or the exact Last-Modified date. */
    private static boolean ifRangeHolds(String ifRange, String etag, String lastModified) {
        if (ifRange == null) {
            return true;
        }
        String v = ifRange.trim();
        return v.startsWith("\"") ? v.equals(etag) : v.equals(lastModified);
    }

    // The 404 page is the same every time: built once, sent from memory (misses are a hot path too).
    private static final FullHttpResponse NOT_FOUND = Responses.page(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT,
            HttpResponseStatus.NOT_FOUND, "There is no file at this address.");
    private static final ByteBuf NOT_FOUND_BODY = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(java.nio.ByteBuffer.allocateDirect(NOT_FOUND.content().readableBytes())
                    .put(NOT_FOUND.content().nioBuffer()).flip()));

    /** The 404 page, from memory. */
    static void notFound(ChannelHandlerContext ctx) {
        FullHttpResponse res = new Responses.Page(HttpResponseStatus.NOT_FOUND, NOT_FOUND_BODY.duplicate());
        res.headers().set(NOT_FOUND.headers());
        ctx.writeAndFlush(res);
    }
}
