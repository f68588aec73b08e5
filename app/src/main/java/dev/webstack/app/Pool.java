package dev.webstack.app;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.Secrets;
import java.time.Duration;

/**
 * The app server's JDBC connection pool (HikariCP over MariaDB Connector/J).
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>setting</th><th>value</th><th>why</th></tr>
 *   <tr><td>maximum size</td><td>{@code app.pool-size} (default 10)</td><td>HikariCP's advice: a fixed-size pool</td></tr>
 *   <tr><td>name</td><td>the app server's name ({@code app-1})</td><td>shows in logs and thread names</td></tr>
 *   <tr><td>initialization fail timeout</td><td>none (-1)</td><td>the app server starts even when the database
 *       is down; readiness reports it, and the pool connects when the database comes back</td></tr>
 *   <tr><td>connection timeout</td><td>{@link #CONNECTION_TIMEOUT}</td><td>a request waits at most this long
 *       for a connection before failing with 500, instead of piling up</td></tr>
 *   <tr><td>validation timeout</td><td>{@link #VALIDATION_TIMEOUT}</td><td></td></tr>
 * </table>
 *
 * <p>With a replica ({@code db.replicas: 1}), {@link #createReplica} makes a second pool of the same
 * size on it ({@code app-1-read}): read-only connections, and a short connection timeout
 * ({@link #REPLICA_CONNECTION_TIMEOUT}) because a read that cannot reach the replica goes to the
 * primary instead ({@link ReadRouting}) rather than fail.
 */
final class Pool {
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(3);
    static final Duration VALIDATION_TIMEOUT = Duration.ofSeconds(1);
    static final Duration REPLICA_CONNECTION_TIMEOUT = Duration.ofMillis(500);

    private Pool() {}

    static HikariDataSource create(AppConfig app, DbConfig db, String name) {
        HikariConfig config = common(app, db, name, forMariaDbDriver(db.jdbcUrl()));
        config.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
        return new HikariDataSource(config);
    }

    /** The pool on replica 1 of the embedded server: read-only connections. */
    static HikariDataSource createReplica(AppConfig app, DbConfig db, String name) {
        HikariConfig config = common(app, db, name + "-read", "jdbc:mariadb://" + db.replica(1).listen() + "/" + db.database());
        config.setReadOnly(true);
        config.setConnectionTimeout(REPLICA_CONNECTION_TIMEOUT.toMillis());
        return new HikariDataSource(config);
    }

    private static HikariConfig common(AppConfig app, DbConfig db, String name, String url) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setDriverClassName("org.mariadb.jdbc.Driver");
        config.setJdbcUrl(url);
        config.setUsername(db.user());
        config.setPassword(Secrets.read(db.passwordFile()));
        config.setMaximumPoolSize(app.poolSize());
        config.setInitializationFailTimeout(-1);
        config.setValidationTimeout(VALIDATION_TIMEOUT.toMillis());
        return config;
    }

    /**
     * MariaDB Connector/J 3 ignores {@code jdbc:mysql:} URLs unless they say {@code permitMysqlScheme};
     * webstack.yml accepts both schemes, so a MySQL URL gets the flag.
     */
    static String forMariaDbDriver(String url) {
        if (!url.startsWith("jdbc:mysql:") || url.contains("permitMysqlScheme")) {
            return url;
        }
        return url + (url.contains("?") ? "&" : "?") + "permitMysqlScheme";
    }
}
