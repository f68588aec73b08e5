package dev.webstack.app;

import dev.webstack.common.config.AppConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.eclipse.jetty.ee10.plus.webapp.EnvConfiguration;
import org.eclipse.jetty.ee10.plus.webapp.PlusConfiguration;
import org.eclipse.jetty.ee10.webapp.JndiConfiguration;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.plus.jndi.Resource;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The codebase deployed into the app server: a {@link WebAppContext} at {@code app.context-path}
 * loaded from {@code app.codebase} (a WAR file or an exploded folder) by its own class loader, with
 * the pool bound in JNDI at {@value #JNDI_NAME} and the reads' DataSource at {@value #READ_JNDI_NAME}
 * (the primary's pool, or {@link ReadRouting} with a replica; both declared by the webapp as
 * {@code resource-ref}s), and as context init parameters the app server's name
 * ({@value #INSTANCE_PARAM}) and {@code app.replica-max-lag} ({@value #REPLICA_MAX_LAG_PARAM}).
 *
 * <p>The webapp runs its migrations when it starts, so a deployment first checks that the database
 * answers {@code SELECT 1} (within {@link #DB_WAIT}). When the database does not answer, or the
 * deployment fails, the app server keeps running, reports itself not ready with the reason, and
 * tries again, from scratch with a fresh context and class loader, after {@link #FIRST_RETRY},
 * doubling up to {@link #MAX_RETRY}. A supervisor waiting for readiness thus sees the app tier come up
 * by itself once the database does.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>what</th><th>value</th></tr>
 *   <tr><td>form body (x-www-form-urlencoded)</td><td>{@value #MAX_FORM_BYTES} bytes (a 20,000-character post,
 *       percent-encoded, with room to spare; Jetty's default, 200,000, is too small)</td></tr>
 * </table>
 */
final class Deployment implements AutoCloseable {
    static final String JNDI_NAME = "java:comp/env/jdbc/site";
    static final String READ_JNDI_NAME = "java:comp/env/jdbc/site-read";
    static final String INSTANCE_PARAM = "webstack.instance";
    static final String REPLICA_MAX_LAG_PARAM = "webstack.replica-max-lag";
    static final int MAX_FORM_BYTES = 1024 * 1024;
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofSeconds(5);
    static final Duration DB_WAIT = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(Deployment.class);

    /** Where the deployment stands; {@code detail} says why it is not started. */
    record State(boolean started, String detail) {}

    private final Server server;
    private final Handler.Wrapper slot;
    private final AppConfig app;
    private final DataSource dataSource;
    private final DataSource reads;
    private final DbProbe probe;
    private final String instance;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile State state = new State(false, "deploying");
    private volatile Thread retrier;

    Deployment(Server server, Handler.Wrapper slot, AppConfig app, DataSource dataSource, DataSource reads, DbProbe probe, String instance) {
        this.server = server;
        this.slot = slot;
        this.app = app;
        this.dataSource = dataSource;
        this.reads = reads;
        this.probe = probe;
        this.instance = instance;
    }

    State state() {
        return state;
    }

    /** Deploys once, now; on failure keeps retrying in the background until it works or {@link #close()}. */
    void start() {
        if (deployOnce()) {
            return;
        }
        retrier = Thread.ofVirtual().name(instance + "-deploy-retry").start(this::retryUntilStarted);
    }

    private void retryUntilStarted() {
        Duration delay = FIRST_RETRY;
        while (!closed.get()) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return;
            }
            if (closed.get() || deployOnce()) {
                return;
            }
            delay = delay.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : delay.multipliedBy(2);
        }
    }

    private synchronized boolean deployOnce() {
        if (closed.get()) {
            return false;
        }
        // Deploying needs the database (the migrations run at deploy time). Waiting for it here
        // costs one second per try and keeps a down database out of the webapp's start-up errors.
        Optional<String> database = probe.selectOne(DB_WAIT);
        if (database.isPresent()) {
            State waiting = new State(false, "waiting for the database: " + database.get());
            if (!waiting.equals(state)) {
                log.warn("{}: not deploying yet, {}", instance, waiting.detail());
            }
            state = waiting;
            return false;
        }
        WebAppContext context = newContext();
        try {
            new Resource(context, "jdbc/site", dataSource);
            new Resource(context, "jdbc/site-read", reads);
            context.setServer(server);
            context.start();
            slot.setHandler(context);
            state = new State(true, "deployed " + app.codebase() + " at " + app.contextPath());
            log.info("{}: {}", instance, state.detail());
            return true;
        } catch (Exception e) {
            String reason = "webapp " + app.codebase() + " failed to start: " + describe(e);
            state = new State(false, reason + " (retrying)");
            log.warn("{}: {}; retrying", instance, reason);
            discard(context);
            return false;
        }
    }

    private WebAppContext newContext() {
        WebAppContext context = new WebAppContext();
        context.setContextPath(app.contextPath());
        context.setWar(app.codebase().toString());
        context.setInitParameter(INSTANCE_PARAM, instance);
        context.setAttribute(INSTANCE_PARAM, instance);
        context.setInitParameter(REPLICA_MAX_LAG_PARAM, app.replicaMaxLag().toString());
        context.setMaxFormContentSize(MAX_FORM_BYTES);
        // A failed start throws out of start(), so that this class sees it and retries.
        context.setThrowUnavailableOnStartupException(true);
        context.addConfiguration(new JndiConfiguration(), new EnvConfiguration(), new PlusConfiguration());
        return context;
    }

    private void discard(WebAppContext context) {
        try {
            context.stop();
        } catch (Exception e) {
            log.debug("{}: stopping the failed webapp: {}", instance, e.toString());
        }
        try {
            context.destroy();
        } catch (RuntimeException e) {
            log.debug("{}: destroying the failed webapp: {}", instance, e.toString());
        }
    }

    /** The exception and its root cause, which is usually the one that says what to fix; one line. */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
        if (root != e) {
            text += "; root cause: " + root.getClass().getSimpleName() + ": " + firstLine(root.getMessage());
        }
        return text.length() > 500 ? text.substring(0, 500) + "..." : text;
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.strip().lines().findFirst().orElse("");
    }

    /** Stops retrying; the deployed webapp itself stops with the server, which manages it. */
    @Override
    public void close() {
        Thread t = retrier;
        if (t != null) {
            t.interrupt();
        }
        // Under the lock: a deployment in progress finishes first, and none starts after this.
        synchronized (this) {
            closed.set(true);
        }
    }
}
