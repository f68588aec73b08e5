package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the static paths from the public folder; every other request goes on to the proxy.
 *
 * <ul>
 *   <li>Which paths: {@link StaticPaths}, on the percent-decoded path. Which file:
 *       {@link RequestPaths#safeSegments} (400 when the path is not a plain file path), then
 *       {@link FileCache} (the real path must lie inside the real root; small files are served from
 *       memory with precomputed headers, re-checked against the disk every second). Directories,
 *       missing and unreadable files are 404.</li>
 *   <li>Content coding: a precompressed {@code .br} or {@code .gz} sibling when {@code Accept-Encoding}
 *       allows it, else a gzip copy kept with a cached compressible file; {@code Vary: Accept-Encoding}
 *       on compressible types and encoded answers.</li>
 *   <li>Only GET and HEAD (else 405). Validators: {@code Last-Modified} and a strong {@code ETag}
 *       from size and modification time; {@code If-None-Match} (weak comparison) and, without it,
 *       {@code If-Modified-Since} answer 304 (RFC 9110 section 13.1).</li>
 *   <li>One byte range per request (see {@link ByteRange}), honoured only for GET and only when an
 *       {@code If-Range} is absent or matches; 206 with {@code Content-Range}, 416 with
 *       {@code Content-Range: bytes *}{@code /size}.</li>
 *   <li>{@code Cache-Control: }{@value #CACHE_CONTROL}. The body of a file not
 *       held in memory is a zero-copy {@link DefaultFileRegion}, which closes the file when written.</li>
 * </ul>
 */
@Sharable
final class StaticFileHandler extends ChannelInboundHandlerAdapter {
    static final String CACHE_CONTROL = "public, max-age=3600";
    private static final String[][] SIBLINGS = {{"br", ".br"}, {"gzip", ".gz"}};
    private static final Logger log = LoggerFactory.getLogger(StaticFileHandler.class);

    private final StaticPaths paths;
    private final FileCache cache;

    StaticFileHandler(Path root, StaticPaths paths) {
        this(new FileCache(root), paths);
    }

    StaticFileHandler(FileCache cache, StaticPaths paths) {
        this.cache = cache;
        this.paths = paths;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg); // a piece of a streamed request body
            return;
        }
        Optional<String> rawPath = RequestPaths.path(req.uri());
        if (rawPath.isEmpty() || !paths.matches(RequestPaths.decodeLeniently(rawPath.get()))) {
            ctx.fireChannelRead(req);
            return;
        }
        try {
            serve(ctx, req, rawPath.get());
        } finally {
            req.release();
        }
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest req, String rawPath) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        if (!head && !req.method().equals(HttpMethod.GET)) {
            FullHttpResponse res = Responses.page(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
                    "Static files answer GET and HEAD.");
            res.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            ctx.writeAndFlush(res);
            return;
        }
        Optional<List<String>> segments = RequestPaths.safeSegments(rawPath);
        if (segments.isEmpty()) {
            ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "This path is not a valid file path."));
            return;
        }
        Optional<FileCache.StaticFile> found = cache.lookup(rawPath, segments.get());
        if (found.isEmpty()) {
            notFound(ctx);
            return;
        }
        HttpHeaders h = req.headers();
        FileCache.StaticFile file = negotiate(found.get(), rawPath, segments.get(), h.get(HttpHeaderNames.ACCEPT_ENCODING));

        if (notModified(h, file.etag(), file.mtimeSeconds())) {
            FullHttpResponse res = Responses.empty(ctx.alloc(), HttpResponseStatus.NOT_MODIFIED);
            res.headers().set(HttpHeaderNames.ETAG, file.etag())
                    .set(HttpHeaderNames.LAST_MODIFIED, file.lastModified())
                    .set(HttpHeaderNames.CACHE_CONTROL, CACHE_CONTROL);
            ctx.writeAndFlush(res);
            return;
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
            return;
        }
        long first = 0;
        long length = size;
        HttpResponseStatus status = HttpResponseStatus.OK;
        if (range instanceof ByteRange.Partial p) {
            first = p.first();
            length = p.length();
            status = HttpResponseStatus.PARTIAL_CONTENT;
        }
        if (head || file.inMemory()) {
            // In-memory files are at most FileCache.MAX_FILE_BYTES long, so the int casts hold.
            ByteBuf body = head ? Unpooled.EMPTY_BUFFER : file.body().retainedSlice((int) first, (int) length);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
            setHeaders(res, file, status, first, length);
            ctx.writeAndFlush(res);
            return;
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file.path(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            log.debug("static {}: {}", file.path(), e.toString());
            notFound(ctx);
            return;
        }
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        setHeaders(res, file, status, first, length);
        ctx.write(res);
        ctx.write(new DefaultFileRegion(channel, first, length));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
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
                Optional<FileCache.StaticFile> sibling = cache.lookup(rawPath + coding[1], siblingSegments);
                if (sibling.isPresent()) {
                    return sibling.get().asEncodingOf(file, coding[0]);
                }
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

    private static boolean notModified(HttpHeaders h, String etag, long mtimeSeconds) {
        String inm = h.get(HttpHeaderNames.IF_NONE_MATCH);
        if (inm != null) {
            return etagListMatches(inm, etag);
        }
        String ims = h.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (ims != null) {
            Date since = DateFormatter.parseHttpDate(ims);
            return since != null && mtimeSeconds <= since.getTime() / 1_000;
        }
        return false;
    }

    /** Weak comparison (RFC 9110 section 8.8.3.2) of {@code etag} against a list or {@code *}. */
    static boolean etagListMatches(String list, String etag) {
        String ours = opaque(etag);
        for (String candidate : list.split(",")) {
            String c = candidate.trim();
            if (c.equals("*") || opaque(c).equals(ours)) {
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

    private static void notFound(ChannelHandlerContext ctx) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                NOT_FOUND_BODY.duplicate());
        res.headers().set(NOT_FOUND.headers());
        ctx.writeAndFlush(res);
    }
}
