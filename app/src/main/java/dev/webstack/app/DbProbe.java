package dev.webstack.app;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code SELECT 1} through the pool, bounded in time. The query runs on its own virtual thread so
 * that a database that does not answer costs the caller {@code timeout}, not the pool's connection
 * timeout ({@link Pool#CONNECTION_TIMEOUT}).
 */
final class DbProbe {
    private final HikariDataSource pool;

    DbProbe(HikariDataSource pool) {
        this.pool = pool;
    }

    /** Empty when the database answered within {@code timeout}; else why not, in one line. */
    Optional<String> selectOne(Duration timeout) {
        FutureTask<Void> query = new FutureTask<>(() -> {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.setQueryTimeout((int) Math.max(1, timeout.toSeconds()));
                try (ResultSet rs = s.executeQuery("SELECT 1")) {
                    rs.next();
                }
            }
            return null;
        });
        Thread.ofVirtual().name(pool.getPoolName() + "-db-probe").start(query);
        try {
            query.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return Optional.empty();
        } catch (TimeoutException e) {
            query.cancel(true);
            return Optional.of(pool.getJdbcUrl() + " did not answer SELECT 1 within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            return Optional.of(pool.getJdbcUrl() + ": " + Deployment.describe(e.getCause()));
        } catch (InterruptedException e) {
            query.cancel(true);
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        }
    }
}
