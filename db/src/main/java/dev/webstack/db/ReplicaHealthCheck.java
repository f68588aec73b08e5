package dev.webstack.db;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.Secrets;
import dev.webstack.common.health.HealthCheck;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * The health of replica {@code n}: first {@link JdbcHealthCheck} against the replica alone (the
 * site user, replicated from the primary, logs in and runs {@code SELECT 1}), then
 * {@code SHOW SLAVE STATUS} as the monitoring account of {@link Replication}. Healthy when both
 * replication threads run, e.g.
 * {@code "SELECT 1 as foobar: MariaDB 11.4.5; replica of 127.0.0.1:3307: IO Yes, SQL Yes, 0 s behind, GTID 0-1-42"}.
 * A replica that was promoted is healthy when it accepts writes ({@code read_only} off).
 *
 * <p>While the primary is down the IO thread reports {@code Connecting}: unhealthy, which is the
 * truth (it no longer receives anything), and the supervisor only reports it.
 */
public final class ReplicaHealthCheck implements HealthCheck {
    private final DbConfig replica;
    private final JdbcHealthCheck login;

    public ReplicaHealthCheck(DbConfig primary, int n) {
        this.replica = primary.replica(n);
        this.login = new JdbcHealthCheck(replica);
    }

    @Override
    public Result check(Duration timeout) {
        Result site = login.check(timeout);
        if (!site.healthy()) {
            return site;
        }
        String ms = String.valueOf(Math.max(1, timeout.toMillis()));
        Properties p = new Properties();
        p.setProperty("user", Replication.MONITOR_USER);
        p.setProperty("connectTimeout", ms);
        p.setProperty("socketTimeout", ms);
        try {
            p.setProperty("password", Secrets.read(Replication.monitorPasswordFile(replica)));
        } catch (UncheckedIOException e) {
            return Result.failed(site.detail() + "; replication status: " + e.getMessage());
        }
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://" + replica.listen() + "/", p);
             Statement s = c.createStatement()) {
            Map<String, String> status = Replication.slaveStatus(s);
            if (status.isEmpty()) {
                boolean readOnly = Replication.queryString(s, "SELECT @@global.read_only").map("1"::equals).orElse(true);
                return readOnly
                        ? Result.failed(site.detail() + "; replicates from nothing, yet read-only")
                        : Result.ok(site.detail() + "; promoted: a primary, writable");
            }
            boolean io = "Yes".equals(status.get("Slave_IO_Running"));
            boolean sql = "Yes".equals(status.get("Slave_SQL_Running"));
            StringBuilder detail = new StringBuilder(site.detail())
                    .append("; replica of ").append(status.get("Master_Host")).append(':').append(status.get("Master_Port"))
                    .append(": IO ").append(status.get("Slave_IO_Running"))
                    .append(", SQL ").append(status.get("Slave_SQL_Running"))
                    .append(", ").append(status.get("Seconds_Behind_Master")).append(" s behind")
                    .append(", GTID ").append(Replication.queryString(s, "SELECT @@global.gtid_slave_pos").orElse("?"));
            for (String error : new String[] {"Last_IO_Error", "Last_SQL_Error"}) {
                String e = status.getOrDefault(error, "");
                if (!e.isEmpty()) {
                    detail.append("; ").append(error).append(": ").append(e);
                }
            }
            return io && sql ? Result.ok(detail.toString()) : Result.failed(detail.toString());
        } catch (SQLException e) {
            return Result.failed(site.detail() + "; SHOW SLAVE STATUS as " + Replication.MONITOR_USER + " on " + replica.listen() + ": " + e.getMessage());
        }
    }
}
