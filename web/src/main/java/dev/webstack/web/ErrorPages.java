package dev.webstack.web;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The site's own pages for the errors the web tier answers itself ({@code web.error-pages}, as
 * nginx's {@code error_page}): a {@link Responses.Page} whose status has a page gets that file of
 * the public folder as its body, with the file's Content-Type and the same status and other
 * headers ({@code Retry-After}, {@code WWW-Authenticate}, {@code Allow}...). The app servers'
 * answers pass as they are (nginx's {@code proxy_intercept_errors off}). The files come from a
 * {@link FileCache}, so a changed page is served within a second; a page missing when it is needed
 * leaves the web tier's own.
 */
@ChannelHandler.Sharable
final class ErrorPages extends ChannelOutboundHandlerAdapter {
    /** No page of the site's: every error answered with the web tier's own. */
    static final ErrorPages NONE = new ErrorPages(Map.of(), null);

    private final Map<Integer, String> pages;
    private final FileCache files;

    private ErrorPages(Map<Integer, String> pages, FileCache files) {
        this.pages = pages;
        this.files = files;
    }

    /** The pages of {@code pages} (status → path in {@code publicRoot}); {@link #NONE} when there are none. */
    static ErrorPages of(Map<Integer, String> pages, Path publicRoot) {
        return pages.isEmpty() ? NONE : new ErrorPages(Map.copyOf(pages), new FileCache(publicRoot));
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof Responses.Page page && !pages.isEmpty()) {
            String path = pages.get(page.status().code());
            FullHttpResponse replaced = path == null ? null : replace(page, path);
            if (replaced != null) {
                page.release();
                ctx.write(replaced, promise);
                return;
            }
        }
        ctx.write(msg, promise);
    }

    /** {@code page} with the body of the file at {@code path}; null when there is no such file in memory now. */
    private FullHttpResponse replace(Responses.Page page, String path) {
        List<String> segments = Arrays.asList(path.substring(1).split("/"));
        Optional<FileCache.StaticFile> file = files.lookup(path, segments);
        if (file.isEmpty() || !file.get().inMemory()) {
            return null;
        }
        FileCache.StaticFile f = file.get();
        FullHttpResponse res = new Responses.Page(page.status(), f.body().retainedDuplicate());
        HttpHeaders h = res.headers().set(page.headers());
        h.set(HttpHeaderNames.CONTENT_TYPE, f.headers().get(HttpHeaderNames.CONTENT_TYPE));
        h.set(HttpHeaderNames.CONTENT_LENGTH, f.body().readableBytes());
        return res;
    }
}
