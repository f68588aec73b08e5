package dev.webstack.app;

import com.zaxxer.hikari.HikariDataSource;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.Secrets;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * The DataSource bound at {@code jdbc/site-read} when there is a replica ({@code db.replicas: 1}):
 * a connection from the replica's read-only pool while the replica is fit to read from, else one
 * from the primary's pool. The site sends here the reads that need not see the latest writes.
 *
 * <p>Every {@link #CHECK_EVERY} a virtual thread asks the replica {@code SHOW SLAVE STATUS} as the
 * monitoring account ({@link DbConfig#MONITOR_USER}) and decides ({@link #decide}):
 * <ul>
 *   <li>both replication threads running and {@code Seconds_Behind_Master} at most
 *       {@code app.replica-max-lag}: reads go to the replica;</li>
 *   <li>replication stopped or broken, the lag unknown or beyond the bound, the replica not
 *       answering: reads go to the primary;</li>
 *   <li>no replication configured and {@code read_only} off: the replica was promoted
 *       ({@code webstack db promote}); it is the primary now, and reads go to it.</li>
 * </ul>
 * A replica that fails between two checks is noticed by the first read that cannot get a
 * connection from its pool within {@link Pool#REPLICA_CONNECTION_TIMEOUT}: that read, and every
 * read until the next check says otherwise, goes to the primary.
 */
final class ReadRouting implements DataSource, AutoCloseable {
    static final Duration CHECK_EVERY = Duration.ofSeconds(1);
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);
    private static final org.slf4j.Logger log = LoggerFactory.getLogger(ReadRouting.class);

    /** Where reads go now, and why. */
    record Route(boolean toReplica, String reason) {}

    private final String name;
    private final HikariDataSource replica;
    private final DataSource primary;
    private final HostPort replicaAddress;
    private final DbConfig db;
    private final Duration maxLag;
    private final Thread checker;
    private volatile Route route = new Route(false, "replica not checked yet");
    private volatile boolean closed;
    private Connection monitor;

    private ReadRouting(String name, HikariDataSource replica, DataSource primary, DbConfig db, Duration maxLag) {
        this.name = name;
        this.replica = replica;
        this.primary = primary;
        this.replicaAddress = db.replica(1).listen();
        this.db = db;
        this.maxLag = maxLag;
        this.checker = Thread.ofVirtual().name(name + "-read-routing").unstarted(this::checkUntilClosed);
    }

    /** Routes reads between {@code replica} (replica 1 of {@code db}) and {@code primary}, checking from now on. */
    static ReadRouting start(String name, HikariDataSource replica, DataSource primary, DbConfig db, Duration maxLag) {
        ReadRouting routing = new ReadRouting(name, replica, primary, db, maxLag);
        routing.checker.start();
        return routing;
    }

    /** Where reads go now, in one line, for {@code /-/ready}. */
    String describe() {
        Route r = route;
        return (r.toReplica() ? "replica " + replicaAddress : "primary") + " (" + r.reason() + ")";
    }

    Route route() {
        return route;
    }

    /**
     * The route for a replica's {@code SHOW SLAVE STATUS} ({@code status}, empty when it replicates
     * from nothing) and its {@code read_only}.
     */
    static Route decide(Map<String, String> status, boolean readOnly, Duration maxLag) {
        if (status.isEmpty()) {
            return readOnly
                    ? new Route(false, "replica replicates from nothing and is read-only")
                    : new Route(true, "replica was promoted: it is the primary");
        }
        String io = status.getOrDefault("Slave_IO_Running", "?");
        String sql = status.getOrDefault("Slave_SQL_Running", "?");
        if (!"Yes".equals(io) || !"Yes".equals(sql)) {
            return new Route(false, "replication not running: IO " + io + ", SQL " + sql);
        }
        String behind = status.get("Seconds_Behind_Master");
        if (behind == null || !behind.matches("[0-9]{1,10}")) {
            return new Route(false, "replica lag unknown");
        }
        long seconds = Long.parseLong(behind);
        if (seconds > maxLag.toSeconds()) {
            return new Route(false, "replica " + seconds + " s behind, more than " + maxLag.toSeconds() + " s");
        }
        return new Route(true, seconds + " s behind");
    }

    private void checkUntilClosed() {
        while (!closed) {
            Route next = check();
            Route previous = route;
            route = next;
            if (previous.toReplica() != next.toReplica()) {
                log.info("{}: reads go to the {} now ({})", name, next.toReplica() ? "replica " + replicaAddress : "primary", next.reason());
            }
            try {
                Thread.sleep(CHECK_EVERY);
            } catch (InterruptedException e) {
                return;
            }
        }
        closeMonitor();
    }

    private Route check() {
        try {
            if (monitor == null || !monitor.isValid(1)) {
                closeMonitor();
                monitor = connectMonitor();
            }
            try (Statement s = monitor.createStatement()) {
                s.setQueryTimeout((int) Math.max(1, CHECK_TIMEOUT.toSeconds()));
                Map<String, String> status = new LinkedHashMap<>();
                try (ResultSet rs = s.executeQuery("SHOW SLAVE STATUS")) {
                    if (rs.next()) {
                        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                            status.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
                        }
                    }
                }
                boolean readOnly;
                try (ResultSet rs = s.executeQuery("SELECT @@global.read_only")) {
                    readOnly = !rs.next() || rs.getBoolean(1);
                }
                return decide(status, readOnly, maxLag);
            }
        } catch (SQLException | UncheckedIOException e) {
            closeMonitor();
            return new Route(false, "replica " + replicaAddress + " not answering: " + Deployment.describe(e));
        }
    }

    private Connection connectMonitor() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", DbConfig.MONITOR_USER);
        p.setProperty("password", Secrets.read(db.monitorPasswordFile()));
        p.setProperty("connectTimeout", String.valueOf(CHECK_TIMEOUT.toMillis()));
        p.setProperty("socketTimeout", String.valueOf(CHECK_TIMEOUT.toMillis()));
        return DriverManager.getConnection("jdbc:mariadb://" + replicaAddress + "/", p);
    }

    private void closeMonitor() {
        if (monitor != null) {
            try {
                monitor.close();
            } catch (SQLException e) {
                log.debug("{}: closing the replica monitor connection: {}", name, e.toString());
            }
            monitor = null;
        }
    }

    @Override
    public Connection getConnection() throws SQLException {
        Route r = route;
        if (r.toReplica()) {
            try {
                return replica.getConnection();
            } catch (SQLException e) {
                route = new Route(false, "replica pool: " + Deployment.describe(e));
                log.warn("{}: reads go to the primary now: no connection to the replica: {}", name, e.getMessage());
            }
        }
        return primary.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("the pools log in with the configured user");
    }

    /** Stops checking; the pools are the app server's to close. */
    @Override
    public void close() {
        closed = true;
        checker.interrupt();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // Nothing to log here: the pools log through SLF4J.
    }

    @Override
    public void setLoginTimeout(int seconds) {
        // The pools' connection timeouts apply.
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("logs through SLF4J");
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLException("not a wrapper for " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }
}
