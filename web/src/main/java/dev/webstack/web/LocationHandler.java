package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers each request as its location says ({@link Locations}): files from a root, a redirect or a
 * fixed answer written here; a proxy location, or a path no location matches, goes on to the proxy.
 *
 * <ul>
 *   <li>Which location: chosen on the path with its empty and dot segments resolved, as nginx
 *       does ({@link RequestPaths#normalize}: {@code //a/./b/../c} is {@code /a/c}; 400 for a
 *       {@code ..} above {@code /}), then percent-decoded ({@link RequestPaths#decodeLeniently}).
 *       The file a root location serves is named by that resolved path; a proxied request goes to
 *       the app with its target as received. A target without a path ({@code *},
 *       authority-form) goes to the proxy.</li>
 *   <li>A location with {@code allow}, {@code deny} or {@code limit-requests} first asks its
 *       {@link ClientAccess} about the client's address: 403, 429 or 503 instead of its answer;
 *       then one with {@code auth-basic} its {@link BasicAuth} about the request's user name and
 *       password: 401 without the right ones (a target without a path, by the location of
 *       {@code /}).</li>
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
 *   <li>A location's {@code headers} are set on its answers whose status is one nginx's
 *       {@code add_header} applies to ({@link LocationConfig#ANSWER_HEADER_STATUSES}): files (in
 *       {@link FileCache}'s precomputed headers), redirects, fixed answers and the app's.</li>
 *   <li>A proxy location with {@code cache-control} adds it to the app's answer when that has none
 *       and its status is one of those too: an error of the app is never made cacheable. Each
 *       proxied request queues its location (or {@link Location.Proxy#PLAIN}) in a channel
 *       attribute, and each final answer of the app takes the first one: answers come back in the
 *       order of the requests (RFC 9112 section 9.3.2), and pipelined requests may all be on their
 *       way to the app before the first answer is.</li>
 * </ul>
 * Holds no per-connection state but that queue, so one instance serves every connection; a reload
 * swaps it whole.
 */
@Sharable
final class LocationHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(LocationHandler.class);
    /** The proxy location of each request this connection is proxying, oldest first: what its answer is to get. */
    private static final AttributeKey<ArrayDeque<Location.Proxy>> PROXY_ANSWERS = AttributeKey.valueOf(LocationHandler.class, "proxyAnswers");

    private final Locations locations;
    // Whether a connection needs the queue: only when a proxy location changes the app's answers.
    private final boolean proxyAnswers;

    LocationHandler(Locations locations) {
        this.locations = locations;
        this.proxyAnswers = locations.all().stream().anyMatch(l -> l.answer() instanceof Location.Proxy p && p.changesAnswers());
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
        Optional<String> target = RequestPaths.path(req.uri());
        if (target.isEmpty()) {
            // No path to choose by: whom the location of "/" refuses is refused here too.
            Location root = locations.select(req, "/");
            if (root.access() == null && root.auth() == null) {
                proxy(ctx, req, Location.Proxy.PLAIN);
            } else {
                admit(ctx, req, root, () -> proxy(ctx, req, Location.Proxy.PLAIN));
            }
            return;
        }
        Optional<String> rawPath = RequestPaths.normalize(target.get());
        if (rawPath.isEmpty()) {
            req.release();
            ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "This path climbs above the root."));
            return;
        }
        String path = RequestPaths.decodeLeniently(rawPath.get());
        Location location = locations.select(req, path);
        if (location.access() == null && location.auth() == null) {
            answer(ctx, req, rawPath.get(), path, location);
        } else {
            admit(ctx, req, location, () -> answer(ctx, req, rawPath.get(), path, location));
        }
    }

    /**
     * Runs {@code serve} when the location's address rules and password let the request through,
     * now or, when a password must be checked off the event loop, once it has been (on the
     * connection's event loop again; no next request is read meanwhile, {@link PipeliningHandler}).
     * Else answers 403/429/503 ({@link #refused}) or 401 with the location's challenge.
     */
    private void admit(ChannelHandlerContext ctx, FullHttpRequest req, Location location, Runnable serve) {
        if (location.access() != null && refused(ctx, req, location.access())) {
            return;
        }
        BasicAuth auth = location.auth();
        if (auth == null) {
            serve.run();
            return;
        }
        String authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        switch (auth.check(authorization)) {
            case PASS -> serve.run();
            case FAIL -> challenge(ctx, req, auth);
            case VERIFY -> {
                CompletableFuture<Boolean> verdict;
                try {
                    verdict = auth.verify(authorization);
                } catch (RejectedExecutionException e) {
                    req.release();
                    ctx.writeAndFlush(Responses.page(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "Too many passwords are being checked; please try again."));
                    return;
                }
                if (req instanceof BodyGate.StreamedRequest) {
                    // Its body is on its way behind it and cannot wait: the event loop waits for the check.
                    if (verdict.join()) {
                        serve.run();
                    } else {
                        challenge(ctx, req, auth);
                    }
                    return;
                }
                verdict.whenComplete((ok, error) -> ctx.executor().execute(() -> {
                    if (!ctx.channel().isActive()) {
                        req.release();
                    } else if (Boolean.TRUE.equals(ok)) {
                        serve.run();
                    } else {
                        challenge(ctx, req, auth);
                    }
                }));
            }
        }
    }

    /** 401 with the location's {@code WWW-Authenticate} (RFC 7617), and the request released. */
    private static void challenge(ChannelHandlerContext ctx, FullHttpRequest req, BasicAuth auth) {
        req.release();
        FullHttpResponse res = Responses.page(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED, "This page needs a user name and password.");
        res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, auth.challenge()); // no-store, as every page of Responses
        ctx.writeAndFlush(res);
    }

    /** Answers {@code req} as {@code location} says. */
    private void answer(ChannelHandlerContext ctx, FullHttpRequest req, String rawPath, String path, Location location) {
        switch (location.answer()) {
            case Location.Proxy p -> proxy(ctx, req, p);
            case Location.Files f -> files(ctx, req, rawPath, f);
            case Location.Redirect r -> {
                String url = r.target().fill(new RedirectTarget.Request(req.uri(), VirtualHosts.name(req), path, location, Tls.isSecure(ctx.channel())));
                req.release();
                FullHttpResponse res = Responses.redirect(ctx.alloc(), r.status(), url);
                res.headers().set(HttpHeaderNames.CACHE_CONTROL, r.cacheControl());
                if (r.headers() != null) {
                    res.headers().add(r.headers());
                }
                ctx.writeAndFlush(res);
            }
            case Location.Fixed f -> {
                boolean head = req.method().equals(HttpMethod.HEAD);
                req.release();
                // Without a body of its own, an error is the web tier's page, which the site's error pages may replace.
                FullHttpResponse res = f.ownBody() ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, f.status(), f.body().duplicate())
                        : new Responses.Page(f.status(), f.body().duplicate());
                res.headers()
                        .set(HttpHeaderNames.CONTENT_TYPE, f.contentType())
                        .set(HttpHeaderNames.CONTENT_LENGTH, f.body().readableBytes())
                        .set(HttpHeaderNames.CACHE_CONTROL, f.cacheControl());
                if (f.headers() != null) {
                    res.headers().add(f.headers());
                }
                // HEAD: the same headers, Content-Length included, and no body (RFC 9110 section 9.3.2).
                ctx.writeAndFlush(head ? res.replace(Unpooled.EMPTY_BUFFER) : res);
            }
        }
    }

    /**
     * Answers 403, 429 (with {@code Retry-After}) or 503 when the location's {@code allow},
     * {@code deny} or {@code limit-requests} refuse the client, and releases the request; false
     * when it is served. The connection stays open, as nginx's does.
     */
    private static boolean refused(ChannelHandlerContext ctx, FullHttpRequest req, ClientAccess access) {
        InetAddress client = RealIp.address(ctx.channel());
        if (client == null) {
            return false;
        }
        ClientAccess.Verdict verdict = access.check(client, System.nanoTime());
        if (verdict.served()) {
            return false;
        }
        req.release();
        FullHttpResponse res = Responses.page(ctx.alloc(), verdict.refusal(), switch (verdict.refusal().code()) {
            case 403 -> "This address is not served to you.";
            case 429 -> "Too many requests from your address; please wait a moment.";
            default -> "Too many clients at once; please try again.";
        });
        if (verdict.retryAfterSeconds() > 0) {
            res.headers().set(HttpHeaderNames.RETRY_AFTER, verdict.retryAfterSeconds());
        }
        ctx.writeAndFlush(res);
        return true;
    }

    /** Sends the request on to the proxy; {@code location} says what its answer is to get (Cache-Control, headers). */
    private void proxy(ChannelHandlerContext ctx, FullHttpRequest req, Location.Proxy location) {
        // No lock needed: the queue is only used on the connection's event loop. Once a connection
        // has one, every proxied request and answer use it, whatever a reload changed since.
        if (proxyAnswers || ctx.channel().hasAttr(PROXY_ANSWERS)) {
            Attribute<ArrayDeque<Location.Proxy>> attr = ctx.channel().attr(PROXY_ANSWERS);
            if (attr.get() == null) {
                attr.set(new ArrayDeque<>(2));
            }
            attr.get().add(location);
        }
        ctx.fireChannelRead(req);
    }

    /** The app's answers pass here on their way out (the proxy is the only handler after this one). */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        // Interim answers (100, 101) leave the value for the final one.
        if (msg instanceof HttpResponse res && res.status().code() >= 200 && ctx.channel().hasAttr(PROXY_ANSWERS)) {
            Location.Proxy location = Objects.requireNonNullElse(ctx.channel().attr(PROXY_ANSWERS).get().poll(), Location.Proxy.PLAIN);
            if (location.changesAnswers() && LocationConfig.ANSWER_HEADER_STATUSES.contains(res.status().code())) {
                if (location.cacheControl().isPresent() && !res.headers().contains(HttpHeaderNames.CACHE_CONTROL)) {
                    res.headers().set(HttpHeaderNames.CACHE_CONTROL, location.cacheControl().get());
                }
                if (location.headers() != null) {
                    res.headers().setAll(location.headers());
                }
            }
        }
        ctx.write(msg, promise);
    }

    private void files(ChannelHandlerContext ctx, FullHttpRequest req, String rawPath, Location.Files f) {
        boolean read = req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
        Optional<List<String>> segments = read ? RequestPaths.safeSegments(rawPath) : Optional.empty();
        boolean served = segments.isPresent() && serve(ctx, req, rawPath, segments.get(), f);
        boolean directory = !served && segments.isPresent() && !segments.get().getLast().isEmpty()
                && f.files().isDirectory(rawPath, segments.get());
        if (!served && !directory && f.tryFiles()) {
            proxy(ctx, req, Location.Proxy.PLAIN); // no file answers it: the app's, as the app answers
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
            } else if (segments.get().getLast().isEmpty() && f.files().isDirectory(rawPath, segments.get())) {
                // A folder with none of the index files: listed with autoindex, else 403 (nginx's default).
                ctx.writeAndFlush(f.autoindex() == LocationConfig.AutoIndex.OFF
                        ? Responses.page(ctx.alloc(), HttpResponseStatus.FORBIDDEN, "This folder has no index file, and its listing is not served.")
                        : listing(ctx, req, segments.get(), f));
            } else {
                StaticFiles.notFound(ctx);
            }
        } finally {
            req.release();
        }
    }

    /** The listing of the folder {@code segments} name (autoindex); 404 if it went away, 500 if it cannot be read. */
    private static FullHttpResponse listing(ChannelHandlerContext ctx, FullHttpRequest req, List<String> segments, Location.Files f) {
        Optional<Path> folder = f.files().directory(segments);
        if (folder.isEmpty()) {
            return Responses.page(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "There is no folder at this address.");
        }
        try {
            return DirectoryListing.of(ctx.alloc(), f.files().rootPath(), folder.get(), "/" + String.join("/", segments), f.autoindex(),
                    req.method().equals(HttpMethod.HEAD));
        } catch (IOException e) {
            log.warn("static: cannot list {}: {}", folder.get(), e.toString());
            return Responses.page(ctx.alloc(), HttpResponseStatus.INTERNAL_SERVER_ERROR, "This folder cannot be listed.");
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
