package dev.webstack.web;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.DateFormatter;
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
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the static paths from the public folder; every other request goes on to the proxy.
 *
 * <ul>
 *   <li>Which paths: {@link StaticPaths}, on the percent-decoded path. Which file:
 *       {@link RequestPaths#safeSegments} (400 when the path is not a plain file path), then the
 *       real path (symbolic links resolved) must lie inside the real path of the root, which is
 *       resolved per request so that a deploy may swap the root by a symbolic link. Directories,
 *       missing and unreadable files are 404.</li>
 *   <li>Only GET and HEAD (else 405). Validators: {@code Last-Modified} and a strong {@code ETag}
 *       from size and modification time; {@code If-None-Match} (weak comparison) and, without it,
 *       {@code If-Modified-Since} answer 304 (RFC 9110 section 13.1).</li>
 *   <li>One byte range per request (see {@link ByteRange}), honoured only for GET and only when an
 *       {@code If-Range} is absent or matches; 206 with {@code Content-Range}, 416 with
 *       {@code Content-Range: bytes *}{@code /size}.</li>
 *   <li>{@code Cache-Control: }{@value #CACHE_CONTROL}. The body is a zero-copy
 *       {@link DefaultFileRegion}, which closes the file when written.</li>
 * </ul>
 */
@Sharable
final class StaticFileHandler extends ChannelInboundHandlerAdapter {
    static final String CACHE_CONTROL = "public, max-age=3600";
    private static final Logger log = LoggerFactory.getLogger(StaticFileHandler.class);

    private final Path root;
    private final StaticPaths paths;

    StaticFileHandler(Path root, StaticPaths paths) {
        this.root = root;
        this.paths = paths;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        FullHttpRequest req = (FullHttpRequest) msg;
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
        Optional<Path> file = resolve(segments.get());
        if (file.isEmpty()) {
            notFound(ctx);
            return;
        }
        BasicFileAttributes attrs;
        FileChannel channel;
        try {
            attrs = Files.readAttributes(file.get(), BasicFileAttributes.class);
            channel = FileChannel.open(file.get(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            log.debug("static {}: {}", file.get(), e.toString());
            notFound(ctx);
            return;
        }
        long size = attrs.size();
        long mtimeSeconds = attrs.lastModifiedTime().toMillis() / 1_000;
        String etag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(attrs.lastModifiedTime().toMillis()) + "\"";
        String lastModified = DateFormatter.format(new Date(mtimeSeconds * 1_000));
        HttpHeaders h = req.headers();

        if (notModified(h, etag, mtimeSeconds)) {
            close(channel);
            FullHttpResponse res = Responses.empty(ctx.alloc(), HttpResponseStatus.NOT_MODIFIED);
            res.headers().set(HttpHeaderNames.ETAG, etag)
                    .set(HttpHeaderNames.LAST_MODIFIED, lastModified)
                    .set(HttpHeaderNames.CACHE_CONTROL, CACHE_CONTROL);
            ctx.writeAndFlush(res);
            return;
        }

        ByteRange range = new ByteRange.Full();
        String rangeHeader = h.get(HttpHeaderNames.RANGE);
        if (!head && rangeHeader != null && ifRangeHolds(h.get(HttpHeaderNames.IF_RANGE), etag, lastModified)) {
            range = ByteRange.parse(rangeHeader, size);
        }
        if (range instanceof ByteRange.Unsatisfiable) {
            close(channel);
            FullHttpResponse res = Responses.page(ctx.alloc(), HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    "The requested range is outside the file.");
            res.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
            ctx.writeAndFlush(res);
            return;
        }
        long first = 0;
        long length = size;
        HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (range instanceof ByteRange.Partial p) {
            first = p.first();
            length = p.length();
            res.setStatus(HttpResponseStatus.PARTIAL_CONTENT);
            res.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes " + p.first() + "-" + p.last() + "/" + size);
        }
        res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, MimeTypes.of(file.get().getFileName().toString()))
                .set(HttpHeaderNames.CONTENT_LENGTH, length)
                .set(HttpHeaderNames.LAST_MODIFIED, lastModified)
                .set(HttpHeaderNames.ETAG, etag)
                .set(HttpHeaderNames.CACHE_CONTROL, CACHE_CONTROL)
                .set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
        if (head) {
            close(channel);
            FullHttpResponse full = Responses.empty(ctx.alloc(), res.status());
            full.headers().set(res.headers());
            ctx.writeAndFlush(full);
            return;
        }
        ctx.write(res);
        ctx.write(new DefaultFileRegion(channel, first, length));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** The file a safe path names, when it is a regular file whose real path is inside the root. */
    private Optional<Path> resolve(List<String> segments) {
        try {
            Path realRoot = root.toRealPath();
            Path p = realRoot;
            for (String s : segments) {
                p = p.resolve(s);
            }
            // Belt and braces: the segments are plain names, so this holds before links are resolved.
            if (!p.normalize().startsWith(realRoot)) {
                return Optional.empty();
            }
            Path real = p.toRealPath();
            if (!real.startsWith(realRoot)) {
                log.debug("static: {} leads outside the root to {}", p, real);
                return Optional.empty();
            }
            if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            return Optional.of(real);
        } catch (IOException | java.nio.file.InvalidPathException e) {
            return Optional.empty();
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

    private static void notFound(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "There is no file at this address."));
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("static: close: {}", e.toString());
        }
    }
}
