package dev.webstack.app;

import com.zaxxer.hikari.HikariDataSource;
import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import java.util.Optional;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.handler.gzip.GzipHandler;
import org.eclipse.jetty.util.thread.VirtualThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One application server ({@code app-1}, {@code app-2}, ...): a Jetty 12 server that handles every
 * request on its own virtual thread and hosts the site's codebase as a webapp with a pooled
 * DataSource ({@link Deployment}, {@link Pool}); with a replica ({@code db.replicas: 1}) a second
 * pool on it, to which {@link ReadRouting} sends the site's reads while the replica keeps up.
 *
 * <p>Handlers, in the order a request meets them: {@link GracefulHandler} (counts in-flight
 * requests so that {@link #close()} can wait for them), {@link FrontHandler} ({@code X-App-Server},
 * {@code /-/live}, {@code /-/ready}), {@link GzipWhenAccepted} and Jetty's {@link GzipHandler}
 * (answers of at least {@value #GZIP_MIN_BYTES} bytes gzip-compressed for clients that accept it),
 * then the webapp.
 *
 * <p>{@link #start} returns once the server listens, even when the webapp could not be deployed
 * (e.g. the database is down): the app server then answers 503 on {@code /-/ready} with the reason
 * and deploys again in the background until it works. A supervisor waits for {@code /-/ready}.
 * It throws only when the server cannot run at all (e.g. the port is taken).
 *
 * <p>{@link #close()} is graceful: the server stops accepting connections, lets in-flight requests
 * finish for up to {@code app.shutdown-timeout} (default 10s), stops the webapp, then closes the pool.
 */
public final class AppServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppServer.class);
    /** Answers shorter than this go out as they are (nginx's gzip_min_length). */
    static final int GZIP_MIN_BYTES = 256;

    private final String name;
    private final Server server;
    private final ServerConnector connector;
    private final Deployment deployment;
    private final HikariDataSource pool;
    private final Optional<HikariDataSource> replicaPool;
    private final Optional<ReadRouting> reads;

    private AppServer(String name, Server server, ServerConnector connector, Deployment deployment, HikariDataSource pool,
                      Optional<HikariDataSource> replicaPool, Optional<ReadRouting> reads) {
        this.name = name;
        this.server = server;
        this.connector = connector;
        this.deployment = deployment;
        this.pool = pool;
        this.replicaPool = replicaPool;
        this.reads = reads;
    }

    public static AppServer start(AppConfig app, DbConfig db, AppConfig.Instance instance) {
        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName(instance.name());
        Server server = new Server(threads);
        server.setStopTimeout(app.shutdownTimeout().toMillis());
        server.setStopAtShutdown(false);

        ServerConnector connector = new ServerConnector(server);
        // The web tier's X-Forwarded-For/-Proto/-Host are the request as the visitor made it:
        // getRemoteAddr() is the visitor, isSecure() says HTTPS. Trusted because the app servers
        // listen where only the web tier (and the machine's own users) reach them.
        HttpConfiguration http = connector.getConnectionFactory(HttpConnectionFactory.class).getHttpConfiguration();
        http.addCustomizer(new ForwardedRequestCustomizer());
        // No "Server: Jetty(12.x)" on the codebase's answers: the web tier passes the app server's
        // headers on to visitors, and a product and version there only help whoever probes for
        // known holes (nginx, in front of an app, hides the upstream's Server header by default).
        http.setSendServerVersion(false);
        connector.setHost(instance.address().host());
        connector.setPort(instance.address().port());
        server.addConnector(connector);

        HikariDataSource pool = Pool.create(app, db, instance.name());
        boolean replica = db.mode() == DbConfig.Mode.EMBEDDED && db.replicas() > 0;
        Optional<HikariDataSource> replicaPool = replica ? Optional.of(Pool.createReplica(app, db, instance.name())) : Optional.empty();
        Optional<ReadRouting> reads = replicaPool.map(r -> ReadRouting.start(instance.name(), r, pool, db, app.replicaMaxLag()));
        Handler.Wrapper slot = new Handler.Wrapper(true);
        DbProbe probe = new DbProbe(pool);
        Deployment deployment = new Deployment(server, slot, app, pool, reads.<DataSource>map(r -> r).orElse(pool), probe, instance.name());
        Supplier<String> readsTo = () -> reads.map(ReadRouting::describe).orElse("primary (no replica)");
        // The codebase's answers gzip-compressed for clients that accept it, as nginx's "gzip on"
        // does for proxied pages: Jetty's GzipHandler (text types, at least GZIP_MIN_BYTES, Vary set).
        GzipHandler gzip = new GzipHandler(slot);
        gzip.setMinGzipSize(GZIP_MIN_BYTES);
        server.setHandler(new GracefulHandler(new FrontHandler(instance.name(), app.codebase().getFileName().toString(),
                deployment::state, probe, readsTo, new GzipWhenAccepted(gzip, slot))));
        try {
            server.start();
        } catch (Exception e) {
            reads.ifPresent(ReadRouting::close);
            replicaPool.ifPresent(HikariDataSource::close);
            pool.close();
            stopQuietly(server);
            throw new IllegalStateException(instance.name() + ": cannot start on " + instance.address() + ": " + e.getMessage(), e);
        }
        deployment.start();
        AppServer started = new AppServer(instance.name(), server, connector, deployment, pool, replicaPool, reads);
        log.info("{}: listening on {} ({})", instance.name(), started.address(),
                deployment.state().started() ? "ready" : "not ready: " + deployment.state().detail());
        return started;
    }

    /** The address it listens on, with the actual port when the configured one was 0. */
    public HostPort address() {
        return new HostPort(connector.getHost(), connector.getLocalPort());
    }

    public String name() {
        return name;
    }

    @Override
    public void close() {
        deployment.close();
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("{}: stopping: {}", name, e.toString());
        } finally {
            reads.ifPresent(ReadRouting::close);
            replicaPool.ifPresent(HikariDataSource::close);
            pool.close();
        }
    }

    private static void stopQuietly(Server server) {
        try {
            server.stop();
        } catch (Exception e) {
            log.debug("stopping a server that failed to start: {}", e.toString());
        }
    }
}
