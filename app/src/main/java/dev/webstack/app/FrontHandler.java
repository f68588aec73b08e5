package dev.webstack.app;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The app server's own front: every response gets {@value #SERVER_HEADER}, and the app server
 * answers these paths itself, before the webapp:
 * <ul>
 *   <li>{@value #LIVE}: 200 while the process is up;</li>
 *   <li>{@value #READY}: 200 when the webapp is deployed and {@code SELECT 1} through the pool
 *       answers within {@link #DB_CHECK_TIMEOUT}; else 503 with the reason as plain text. The text
 *       also says where reads go ({@link ReadRouting}); a replica unfit to read from does not make
 *       the app server unready, since reads then go to the primary.</li>
 * </ul>
 * While the webapp is not deployed (see {@link Deployment}), every other request gets 503 too.
 */
final class FrontHandler extends Handler.Wrapper {
    static final String SERVER_HEADER = "X-App-Server";
    /** Names the codebase that answered (its file or folder name), so a deploy can be watched from outside. */
    static final String CODEBASE_HEADER = "X-Codebase";
    static final String LIVE = "/-/live";
    static final String READY = "/-/ready";
    static final Duration DB_CHECK_TIMEOUT = Duration.ofSeconds(1);

    private final String instance;
    private final String codebase;
    private final Supplier<Deployment.State> deployment;
    private final DbProbe database;
    private final Supplier<String> readsTo;

    FrontHandler(String instance, String codebase, Supplier<Deployment.State> deployment, DbProbe database,
                 Supplier<String> readsTo, Handler webapp) {
        super(webapp);
        this.instance = instance;
        this.codebase = codebase;
        this.deployment = deployment;
        this.database = database;
        this.readsTo = readsTo;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        response.getHeaders().put(SERVER_HEADER, instance);
        response.getHeaders().put(CODEBASE_HEADER, codebase);
        String path = Request.getPathInContext(request);
        if (path.equals(LIVE)) {
            return text(response, callback, HttpStatus.OK_200, "live");
        }
        if (path.equals(READY)) {
            Readiness r = readiness();
            return text(response, callback, r.ready() ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503, r.detail());
        }
        Deployment.State state = deployment.get();
        if (!state.started()) {
            return text(response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "not ready: " + state.detail());
        }
        return super.handle(request, response, callback);
    }

    private record Readiness(boolean ready, String detail) {}

    private Readiness readiness() {
        Deployment.State state = deployment.get();
        if (!state.started()) {
            return new Readiness(false, "not ready: " + state.detail());
        }
        return database.selectOne(DB_CHECK_TIMEOUT)
                .map(reason -> new Readiness(false, "not ready: database: " + reason))
                .orElseGet(() -> new Readiness(true, "ready: " + state.detail() + "; database answered SELECT 1; reads: " + readsTo.get()));
    }

    private static boolean text(Response response, Callback callback, int status, String body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, StandardCharsets.UTF_8.encode(body + "\n"), callback);
        return true;
    }
}
