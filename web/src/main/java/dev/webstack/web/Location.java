package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A location of {@code web.locations} made ready to answer: its compiled regex and its action with
 * everything that does not depend on the request (file cache, response bytes, redirect template)
 * built once. Immutable and shared by every event loop.
 */
final class Location {
    /** What no location matches goes to the app: the location the table falls back to. */
    static final Location PROXY_ALL = new Location(LocationConfig.proxyAll(), Map.of(), MimeTypes.BUILT_IN, null);

    private final LocationConfig config;
    private final Pattern regex; // regex locations only
    private final Answer answer;
    private final ClientAccess access; // null: open to every client, unlimited
    private final BasicAuth auth;      // null: no password asked

    /** The action, compiled. */
    sealed interface Answer {}

    /** Serve files; a path ending in '/' tries the {@code index} files in it. */
    record Files(StaticFiles files, List<String> index, boolean tryFiles, LocationConfig.AutoIndex autoindex) implements Answer {}

    /**
     * Proxy to the app servers; {@code cacheControl} is the location's {@code Cache-Control}, for
     * the app's answers that have none, and {@code headers} its {@code headers}, set on the app's
     * answers (null when none; see {@link LocationHandler}).
     */
    record Proxy(Optional<String> cacheControl, HttpHeaders headers) implements Answer {
        /** The app's answers as they are: what a path without a location, or a try-files miss, gets. */
        static final Proxy PLAIN = new Proxy(Optional.empty(), null);

        /** Whether the app's answers are changed here at all. */
        boolean changesAnswers() {
            return cacheControl.isPresent() || headers != null;
        }
    }

    /** A redirect; {@code headers}: the location's, or null. */
    record Redirect(RedirectTarget target, HttpResponseStatus status, String cacheControl, HttpHeaders headers) implements Answer {}

    /**
     * A fixed answer: headers and body bytes made once, the body sent as a duplicate of an
     * unreleasable buffer; {@code headers}: the location's when its status takes them, else null.
     */
    record Fixed(HttpResponseStatus status, String contentType, ByteBuf body, String cacheControl, HttpHeaders headers,
                 boolean ownBody) implements Answer {}

    /**
     * @param caches the static files of the table being built, by root and Cache-Control, so that
     *               locations sharing both also share the files held in memory
     */
    Location(LocationConfig config, Map<CacheKey, StaticFiles> caches, MimeTypes mimeTypes, Location before) {
        this.config = config;
        this.regex = switch (config.kind()) {
            case REGEX -> Pattern.compile(config.pattern());
            case REGEX_CASELESS -> Pattern.compile(config.pattern(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
            default -> null;
        };
        // The same rules at the same place before a reload: its counts and remembered passwords go on.
        this.access = before != null ? before.access : ClientAccess.of(config.access());
        this.auth = before != null && before.auth != null ? before.auth.reread() : config.access().basicAuth().map(BasicAuth::new).orElse(null);
        this.answer = switch (config.action()) {
            case LocationConfig.Root r -> {
                String cacheControl = config.cacheControl().orElse(LocationConfig.DEFAULT_CACHE_CONTROL);
                StaticFiles files = caches.computeIfAbsent(new CacheKey(r.root().toString(), cacheControl, config.headers()),
                        k -> new StaticFiles(new FileCache(r.root(), cacheControl, config.headers(), mimeTypes, FileCache.REVALIDATE_AFTER)));
                yield new Files(files, config.index(), config.tryFiles(), r.autoindex());
            }
            case LocationConfig.Proxy p -> new Proxy(config.cacheControl(), headers(config));
            case LocationConfig.Redirect r -> new Redirect(new RedirectTarget(r.target()), HttpResponseStatus.valueOf(r.status()),
                    config.cacheControl().orElse(HttpHeaderValues.NO_STORE.toString()), headers(config));
            case LocationConfig.Return r -> fixed(r, config.cacheControl().orElse(HttpHeaderValues.NO_STORE.toString()),
                    LocationConfig.ANSWER_HEADER_STATUSES.contains(r.status()) ? headers(config) : null);
        };
    }

    /** What makes a location's client rules the same across a reload: its host, its path and the rules themselves. */
    record AccessKey(Optional<String> host, String path, LocationConfig.Access access) {
        static AccessKey of(LocationConfig c) {
            return new AccessKey(c.host(), c.path(), c.access());
        }
    }

    /** Locations with the same root, Cache-Control and headers share one {@link StaticFiles} and its {@link FileCache}. */
    record CacheKey(String root, String cacheControl, Map<String, String> headers) {}

    /** The location's {@code headers} as values the encoder copies as bytes; null when it has none. */
    private static HttpHeaders headers(LocationConfig config) {
        if (config.headers().isEmpty()) {
            return null;
        }
        HttpHeaders h = new DefaultHttpHeaders(false);
        config.headers().forEach((name, value) -> h.set(AsciiString.of(name), AsciiString.of(value)));
        return h;
    }

    private static Fixed fixed(LocationConfig.Return r, String cacheControl, HttpHeaders headers) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(r.status());
        String type = "text/plain; charset=utf-8";
        byte[] bytes;
        if (r.body().isPresent()) {
            bytes = r.body().get().getBytes(StandardCharsets.UTF_8);
        } else if (status.code() >= 400) {
            // Without a body of its own, an error gets the same short page as the web tier's other errors.
            FullHttpResponse page = Responses.page(UnpooledByteBufAllocator.DEFAULT, status, "This address answers "
                    + status.code() + ".");
            bytes = new byte[page.content().readableBytes()];
            page.content().readBytes(bytes);
            page.release();
            type = page.headers().get(HttpHeaderNames.CONTENT_TYPE);
        } else {
            bytes = new byte[0];
        }
        ByteBuf body = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip()));
        return new Fixed(status, type, body, cacheControl, headers, r.body().isPresent());
    }

    LocationConfig config() {
        return config;
    }

    Answer answer() {
        return answer;
    }

    /** The user name and password this location asks for; null when it asks for none. */
    BasicAuth auth() {
        return auth;
    }

    /** Who may use this location and how often; null when every client may, as often as it likes. */
    ClientAccess access() {
        return access;
    }

    /** Whether this regex location matches the decoded path (anywhere in it, as nginx's regexes do unless anchored). */
    boolean regexFinds(String path) {
        return regex.matcher(path).find();
    }

    /** The groups of this location's regex in {@code path}, {@code $0} first; empty for other kinds. */
    String[] groups(String path) {
        if (regex == null) {
            return new String[0];
        }
        java.util.regex.Matcher m = regex.matcher(path);
        if (!m.find()) {
            return new String[0];
        }
        String[] out = new String[m.groupCount() + 1];
        for (int i = 0; i < out.length; i++) {
            out[i] = m.group(i) == null ? "" : m.group(i);
        }
        return out;
    }

    @Override
    public String toString() {
        return config.describe();
    }
}
