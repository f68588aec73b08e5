package dev.webstack.db;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.Secrets;
import dev.webstack.common.health.HealthCheck;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * Logs in as the site user, exactly as the app servers do ({@link DbConfig#jdbcUrl()}, the password
 * in {@code password-file}), and runs {@code SELECT 1}: healthy when it returns 1. The detail names
 * the server, e.g. {@code "SELECT 1 as foobar: MariaDB 11.4.5"}.
 *
 * <p>The password file is read on every probe: in embedded mode it only exists once the server
 * has started for the first time. The timeout bounds the TCP connect and each read separately
 * (Connector/J's {@code connectTimeout} and {@code socketTimeout}), so a probe that connects
 * slowly and then reads slowly can take up to twice as long.
 */
public final class JdbcHealthCheck implements HealthCheck {
    private final DbConfig config;

    public JdbcHealthCheck(DbConfig config) {
        this.config = config;
    }

    @Override
    public Result check(Duration timeout) {
        String what = "SELECT 1 as " + config.user();
        String password;
        try {
            password = Secrets.read(config.passwordFile());
        } catch (UncheckedIOException e) {
            return Result.failed(what + ": " + e.getMessage());
        }
        String ms = String.valueOf(Math.max(1, timeout.toMillis()));
        Properties p = new Properties();
        p.setProperty("user", config.user());
        p.setProperty("password", password);
        p.setProperty("connectTimeout", ms);
        p.setProperty("socketTimeout", ms);
        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), p);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            if (!rs.next() || rs.getInt(1) != 1) {
                return Result.failed(what + ": unexpected answer from " + config.jdbcUrl());
            }
            return Result.ok(what + ": " + server(c.getMetaData()));
        } catch (SQLException e) {
            return Result.failed(what + " on " + config.jdbcUrl() + ": " + e.getMessage());
        }
    }

    /** {@code "MariaDB 11.4.5"} from product name {@code MariaDB} and version {@code 11.4.5-MariaDB-log}. */
    private static String server(DatabaseMetaData meta) throws SQLException {
        String version = meta.getDatabaseProductVersion();
        int dash = version.indexOf('-');
        return meta.getDatabaseProductName() + " " + (dash > 0 ? version.substring(0, dash) : version);
    }
}
