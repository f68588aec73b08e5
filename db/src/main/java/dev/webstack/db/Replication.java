package dev.webstack.db;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MariaDB's GTID replication, set up and torn down with its own statements; see {@link DbServer}
 * for when each step runs.
 *
 * <p>Accounts (created on the primary by {@link Provisioner}, and so replicated to every replica):
 * <table>
 *   <caption>Replication accounts</caption>
 *   <tr><td>{@value #REPL_USER}@127.0.0.1</td><td>{@code REPLICATION SLAVE} only: what a replica's
 *       IO thread logs in as; password in {@code db-repl.password}</td></tr>
 *   <tr><td>{@value #MONITOR_USER}@127.0.0.1</td><td>{@code SLAVE MONITOR} only: lets
 *       {@link ReplicaHealthCheck} run {@code SHOW SLAVE STATUS}; password in
 *       {@code db-monitor.password}</td></tr>
 * </table>
 */
final class Replication {
    private static final Logger log = LoggerFactory.getLogger(Replication.class);

    static final String REPL_USER = "webstack_repl";
    static final String MONITOR_USER = DbConfig.MONITOR_USER;
    /** How long {@link #promote} waits for the replica to apply what it already received. */
    static final int CATCH_UP_SECONDS = 30;

    private Replication() {}

    static Path rootPasswordFile(DbConfig config) {
        return config.passwordFile().resolveSibling("db-root.password");
    }

    static Path replPasswordFile(DbConfig config) {
        return config.passwordFile().resolveSibling("db-repl.password");
    }

    static Path monitorPasswordFile(DbConfig config) {
        return config.monitorPasswordFile();
    }

    /**
     * Copies everything of the primary into a new replica and records the primary's GTID position
     * at that instant: {@code mariadb-dump --all-databases --single-transaction --master-data --gtid}
     * piped into the {@code mariadb} client on the replica. The dump takes its position under a
     * brief global read lock and then reads InnoDB in one snapshot; its last statement sets the
     * replica's {@code gtid_slave_pos}. The load is not written to the replica's binary log
     * ({@code sql_log_bin=0}): those rows already have their GTIDs on the primary.
     */
    static void seed(ClientTools tools, ClientTools.Login primaryRoot, ClientTools.Login replicaAdmin) {
        try (ClientTools.Run dump = tools.prepare("mariadb-dump", primaryRoot, List.of(
                "--all-databases", "--single-transaction", "--master-data=1", "--gtid",
                "--routines", "--triggers", "--events", "--hex-blob"));
             ClientTools.Run load = tools.prepare("mariadb", replicaAdmin, List.of(
                     "--init-command=SET SESSION sql_log_bin=0", "--batch"))) {
            List<Process> pipeline = ProcessBuilder.startPipeline(List.of(dump.builder, load.builder.redirectOutput(Redirect.DISCARD)));
            // Wait for the loader first: if it dies, the dump blocks on a full pipe until killed.
            try {
                ClientTools.await(load, pipeline.get(1));
            } catch (IllegalStateException e) {
                pipeline.get(0).destroyForcibly();
                throw e;
            }
            ClientTools.await(dump, pipeline.get(0));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("db: cannot copy the primary into the replica: " + e.getMessage(), e);
        }
    }

    /**
     * On a freshly seeded replica: makes the loaded accounts effective, drops whatever its own
     * binary log holds (nothing of value on a new server, and a local GTID there would later make
     * it look diverged), then follows the primary from the seeded position.
     */
    static void follow(Connection replica, HostPort primary, String replPassword) throws SQLException {
        try (Statement s = replica.createStatement()) {
            s.execute("SET SESSION sql_log_bin=0");
            s.execute("FLUSH LOCAL PRIVILEGES");
            s.execute("RESET MASTER");
            try (PreparedStatement ps = replica.prepareStatement("CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=" + primary.port()
                    + ", MASTER_USER='" + REPL_USER + "', MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos"
                    // The server offers no TLS, and 11.4 replicas ask for it by default.
                    + ", MASTER_SSL=0"
                    // Reconnect 5 s after the primary went away (default 60 s), logging an error each time.
                    + ", MASTER_CONNECT_RETRY=5")) {
                ps.setString(1, primary.host());
                ps.setString(2, replPassword);
                ps.executeUpdate();
            }
            s.execute("START SLAVE");
            log.info("db: replica follows {} from GTID {}", primary, queryString(s, "SELECT @@global.gtid_slave_pos").orElse("?"));
        }
    }

    /** What {@link #promote} did. */
    record Promoted(String gtidPosition, boolean wasReplica) {}

    /**
     * Turns a replica into a primary: stops fetching from the old primary, waits up to
     * {@value #CATCH_UP_SECONDS} s until everything already received (the relay log) is applied,
     * then forgets the primary and accepts writes. Idempotent: a server that already is a primary
     * is left as is.
     *
     * @throws IllegalStateException when the relay log was not applied in time (e.g. the SQL
     *                               thread stopped on an error); the replica stays read-only
     */
    static Promoted promote(Connection replica) throws SQLException {
        try (Statement s = replica.createStatement()) {
            Map<String, String> status = slaveStatus(s);
            if (status.isEmpty()) {
                s.execute("SET GLOBAL read_only=OFF");
                return new Promoted(queryString(s, "SELECT @@global.gtid_current_pos").orElse(""), false);
            }
            s.execute("STOP SLAVE IO_THREAD");
            status = slaveStatus(s);
            String received = status.getOrDefault("Gtid_IO_Pos", "");
            if (!received.isEmpty()) {
                try (PreparedStatement ps = replica.prepareStatement("SELECT MASTER_GTID_WAIT(?, " + CATCH_UP_SECONDS + ")")) {
                    ps.setString(1, received);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getInt(1) != 0) {
                            throw new IllegalStateException("db: the replica has not applied all it received from the primary within "
                                    + CATCH_UP_SECONDS + " s (received up to " + received + ", applied up to "
                                    + queryString(s, "SELECT @@global.gtid_slave_pos").orElse("?") + "; SQL thread running: "
                                    + slaveStatus(s).get("Slave_SQL_Running") + ", last error: " + slaveStatus(s).get("Last_SQL_Error")
                                    + "). Promoting now would drop those transactions; fix the SQL thread's error and promote again.");
                        }
                    }
                }
            }
            s.execute("STOP SLAVE");
            s.execute("RESET SLAVE ALL");
            s.execute("SET GLOBAL read_only=OFF");
            return new Promoted(queryString(s, "SELECT @@global.gtid_current_pos").orElse(""), true);
        }
    }

    /** {@code SHOW SLAVE STATUS} as column → value; empty when the server replicates from nothing. */
    static Map<String, String> slaveStatus(Statement s) throws SQLException {
        Map<String, String> row = new LinkedHashMap<>();
        try (ResultSet rs = s.executeQuery("SHOW SLAVE STATUS")) {
            if (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    String value = rs.getString(i);
                    row.put(rs.getMetaData().getColumnLabel(i), value == null ? "NULL" : value);
                }
            }
        }
        return row;
    }

    static Optional<String> queryString(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
        }
    }
}
