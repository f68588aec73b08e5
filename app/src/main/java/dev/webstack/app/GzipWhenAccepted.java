package dev.webstack.app;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.gzip.GzipHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Sends a request through Jetty's {@link GzipHandler} only when it accepts gzip; any other goes
 * straight to the webapp: the GzipHandler wraps every request and response it sees, for nothing when
 * the client cannot take gzip (wrk, the drills). In one comparison straight to the app server, JIT
 * not yet settled, pages per second were about 9% lower with it on every request. Identity answers still say
 * {@code Vary: Accept-Encoding} (the GzipHandler's own answers set it), so that a cache keeps both.
 */
final class GzipWhenAccepted extends Handler.Wrapper {
    private final Handler webapp;

    /** {@code gzip} must wrap {@code webapp}. */
    GzipWhenAccepted(GzipHandler gzip, Handler webapp) {
        super(gzip);
        this.webapp = webapp;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String accept = request.getHeaders().get(HttpHeader.ACCEPT_ENCODING);
        if (accept != null && accept.contains("gzip")) {
            return super.handle(request, response, callback);
        }
        response.getHeaders().add(HttpHeader.VARY, "Accept-Encoding");
        return webapp.handle(request, response, callback);
    }
}
