package dev.webstack.web;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Answers each request as its location says ({@link Locations}): files from a root, a redirect or a
 * fixed answer written here; a proxy location, or a path no location matches, goes on to the proxy.
 *
 * <ul>
 *   <li>Which location: chosen on the percent-decoded path ({@link RequestPaths#decodeLeniently}).
 *       A target without a path ({@code *}, authority-form) goes to the proxy.</li>
 *   <li>A root location answers GET and HEAD (else 405 with {@code Allow}); the file is named by
 *       {@link RequestPaths#safeSegments} (400 when the path is not a plain file path); a path
 *       ending in '/' tries the location's index files in order; no file is 404. With
 *       {@code try-files}, each of these refusals instead sends the request on to the proxy, which
 *       is how "the file if there is one, else the app" is written.</li>
 *   <li>A path without a trailing '/' that names a directory under the root is answered, as nginx
 *       does, 301 to the same path with a '/' and the query kept, so that the index file answers the
 *       next request and relative links in it resolve inside the directory. The {@code Location} is
 *       the raw path as received (no scheme or host: RFC 9110 section 10.2.2 allows a relative
 *       reference, and it stays right behind another proxy); it cannot start with {@code //}, since
 *       safe paths have no empty segment. This holds with {@code try-files} too: the directory is
 *       in the root, so the root answers it.</li>
 *   <li>A redirect fills in its URL ({@link RedirectTarget}) and answers with the location's status.</li>
 *   <li>A fixed answer ({@code return:}) sends bytes made once, for any method.</li>
 * </ul>
 * Holds no per-connection state, so one instance serves every connection; a reload swaps it whole.
 */
@Sharable
final class LocationHandler extends ChannelInboundHandlerAdapter {
    private final Locations locations;

    LocationHandler(Locations locations) {
        this.locations = locations;
    }

    Locations locations() {
        return locations;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg); // a piece of a streamed request body
            return;
        }
        Optional<String> rawPath = RequestPaths.path(req.uri());
        if (rawPath.isEmpty()) {
            ctx.fireChannelRead(req);
            return;
        }
        String path = RequestPaths.decodeLeniently(rawPath.get());
        Location location = locations.select(req, path);
        switch (location.answer()) {
            case Location.Proxy p -> ctx.fireChannelRead(req);
            case Location.Files f -> files(ctx, req, rawPath.get(), f);
            case Location.Redirect r -> {
                String url = r.target().fill(new RedirectTarget.Request(req.uri(), VirtualHosts.name(req), path, location));
                req.release();
                FullHttpResponse res = Responses.redirect(ctx.alloc(), r.status(), url);
                res.headers().set(HttpHeaderNames.CACHE_CONTROL, r.cacheControl());
                ctx.writeAndFlush(res);
            }
            case Location.Fixed f -> {
                boolean head = req.method().equals(HttpMethod.HEAD);
                req.release();
                FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, f.status(), f.body().duplicate());
                res.headers()
                        .set(HttpHeaderNames.CONTENT_TYPE, f.contentType())
                        .set(HttpHeaderNames.CONTENT_LENGTH, f.body().readableBytes())
                        .set(HttpHeaderNames.CACHE_CONTROL, f.cacheControl());
                // HEAD: the same headers, Content-Length included, and no body (RFC 9110 section 9.3.2).
                ctx.writeAndFlush(head ? res.replace(Unpooled.EMPTY_BUFFER) : res);
            }
        }
    }

    private static void files(ChannelHandlerContext ctx, FullHttpRequest req, String rawPath, Location.Files f) {
        boolean read = req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
        Optional<List<String>> segments = read ? RequestPaths.safeSegments(rawPath) : Optional.empty();
        boolean served = segments.isPresent() && serve(ctx, req, rawPath, segments.get(), f);
        boolean directory = !served && segments.isPresent() && !segments.get().getLast().isEmpty()
                && f.files().isDirectory(rawPath, segments.get());
        if (!served && !directory && f.tryFiles()) {
            ctx.fireChannelRead(req); // no file answers it: the app's
            return;
        }
        try {
            if (served) {
                return;
            }
            if (directory) {
                ctx.writeAndFlush(Responses.redirect(ctx.alloc(), HttpResponseStatus.MOVED_PERMANENTLY,
                        rawPath + "/" + RequestPaths.query(req.uri())));
            } else if (!read) {
                FullHttpResponse res = Responses.page(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
                        "Static files answer GET and HEAD.");
                res.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                ctx.writeAndFlush(res);
            } else if (segments.isEmpty()) {
                ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "This path is not a valid file path."));
            } else {
                StaticFiles.notFound(ctx);
            }
        } finally {
            req.release();
        }
    }

    /** Serves the file, or for a path ending in '/' the first of the index files there is; false when there is none. */
    private static boolean serve(ChannelHandlerContext ctx, FullHttpRequest req, String rawPath, List<String> segments,
                                 Location.Files f) {
        if (!segments.getLast().isEmpty()) {
            return f.files().serve(ctx, req, rawPath, segments);
        }
        for (String name : f.index()) {
            List<String> file = new ArrayList<>(segments);
            file.set(file.size() - 1, name);
            if (f.files().serve(ctx, req, rawPath + name, file)) {
                return true;
            }
        }
        return false;
    }
}
