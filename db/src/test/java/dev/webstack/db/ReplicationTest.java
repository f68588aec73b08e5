package dev.webstack.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.Secrets;
import dev.webstack.common.health.HealthCheck;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real primary and its GTID replica (plus one throw-away server for the restore), steps in
 * order: replication, read-only, health, backup and restore, replica restart, then the primary is
 * lost and the replica promoted. Four server starts in all; each costs seconds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ReplicationTest {
    private static final Logger log = LoggerFactory.getLogger(ReplicationTest.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    /** Bound for anything that replicates; on loopback it takes milliseconds. */
    private static final Duration REPLICATION_WAIT = Duration.ofSeconds(20);
    private static final int READ_ONLY_ERROR = 1290;

    @TempDir
    static Path dir;

    private DbConfig primaryConfig;
    private DbConfig replicaConfig;
    private DbServer primary;
    private DbServer replica;

    @BeforeAll
    void start() throws Exception {
        int port = freePortPair();
        Path dataDir = dir.resolve("var/db");
        primaryConfig = new DbConfig(DbConfig.Mode.EMBEDDED, new HostPort("127.0.0.1", port), "foobar", "foobar",
                dataDir, Optional.empty(), Optional.empty(), dir.resolve("var/secrets/db-foobar.password"), 1);
        replicaConfig = primaryConfig.replica(1);
        long t = System.nanoTime();
        primary = DbServer.start(primaryConfig);
        log.info("measured: primary first start {} ms", (System.nanoTime() - t) / 1_000_000);
        try (Connection c = siteUser(primaryConfig.listen()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE note (id INT PRIMARY KEY, text VARCHAR(100)) DEFAULT CHARSET utf8mb4");
            s.execute("INSERT INTO note VALUES (1, 'before the replica existed')");
        }
        t = System.nanoTime();
        replica = DbServer.startReplica(primaryConfig, 1);
        log.info("measured: new replica start (install, copy, follow) {} ms", (System.nanoTime() - t) / 1_000_000);
    }

    @AfterAll
    void stop() {
        for (DbServer s : new DbServer[] {replica, primary}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @Test
    @Order(1)
    void theReplicaWasCopiedAndReceivesNewRows() throws Exception {
        assertThat(replica.address()).isEqualTo(replicaConfig.listen());
        assertThat(rowsOnReplica()).as("copied when the replica was created").contains("1:before the replica existed");

        try (Connection onPrimary = siteUser(primaryConfig.listen()); Statement p = onPrimary.createStatement();
             Connection onReplica = siteUser(replicaConfig.listen()); Statement r = onReplica.createStatement()) {
            long t = System.nanoTime();
            p.execute("INSERT INTO note VALUES (2, 'grüezi 👋')");
            List<String> rows = awaitRows(() -> {
                try {
                    return queryStrings(r, "SELECT CONCAT(id, ':', text) FROM note ORDER BY id");
                } catch (SQLException e) {
                    return List.of("error: " + e.getMessage());
                }
            }, "2:grüezi 👋");
            // Not asserted: a number to report, from the INSERT's start to the first read that sees it.
            log.info("measured: a committed row visible on the replica after {} µs", (System.nanoTime() - t) / 1_000);
            assertThat(rows).containsExactly("1:before the replica existed", "2:grüezi 👋");
        }
    }

    @Test
    @Order(2)
    void theReplicaRefusesWritesFromTheSiteUser() throws Exception {
        try (Connection c = siteUser(replicaConfig.listen()); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("INSERT INTO note VALUES (99, 'on the replica')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).as("error code").isEqualTo(READ_ONLY_ERROR))
                    .hasMessageContaining("read-only");
        }
    }

    @Test
    @Order(3)
    void replicaHealthReportsBothThreadsAndTheLag() throws Exception {
        ReplicaHealthCheck check = new ReplicaHealthCheck(primaryConfig, 1);
        HealthCheck.Result result = await(() -> check.check(PROBE_TIMEOUT), HealthCheck.Result::healthy);
        assertThat(result.healthy()).as("healthy: %s", result.detail()).isTrue();
        assertThat(result.detail())
                .contains("SELECT 1 as foobar: MariaDB 11.4.")
                .contains("replica of 127.0.0.1:" + primaryConfig.listen().port() + ": IO Yes, SQL Yes, 0 s behind, GTID 0-1-");
    }

    @Test
    @Order(4)
    void replicationAccountsHaveOnePrivilegeEach() throws Exception {
        String repl = Secrets.read(Replication.replPasswordFile(primaryConfig));
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://" + primaryConfig.listen() + "/", Replication.REPL_USER, repl);
             Statement s = c.createStatement()) {
            assertThat(queryStrings(s, "SHOW GRANTS")).singleElement().asString().startsWith("GRANT REPLICATION SLAVE ON *.* TO");
        }
        for (Path file : List.of(Replication.replPasswordFile(primaryConfig), Replication.monitorPasswordFile(primaryConfig))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).as("mode of %s", file).isEqualTo("rw-------");
        }
    }

    @Test
    @Order(5)
    void backupThenRestoreIntoAFreshServerReproducesTheRowsAndTheFileHasNoPassword() throws Exception {
        Path file = dir.resolve("backups/foobar.sql");
        DbBackup.Written written = DbBackup.backup(primaryConfig, file);
        assertThat(written.file()).isEqualTo(file);
        assertThat(written.bytes()).isEqualTo(Files.size(file));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String dump = Files.readString(file);
        assertThat(dump).contains("CREATE TABLE `note`").contains("grüezi 👋");
        for (Path secret : List.of(primaryConfig.passwordFile(), Replication.rootPasswordFile(primaryConfig),
                Replication.replPasswordFile(primaryConfig), Replication.monitorPasswordFile(primaryConfig))) {
            assertThat(dump).as("the backup holds the secret of %s", secret).doesNotContain(Secrets.read(secret));
        }
        assertThat(dump).doesNotContainIgnoringCase("IDENTIFIED");

        // Another server, with its own secrets, run from the binaries already unpacked.
        Path otherDir = dir.resolve("other/db");
        DbConfig other = new DbConfig(DbConfig.Mode.EMBEDDED, new HostPort("127.0.0.1", freePortPair()), "foobar", "foobar",
                otherDir, Optional.of(primaryConfig.dataDir().resolve("base/bin/mariadbd")), Optional.empty(),
                dir.resolve("other/secrets/db-foobar.password"), 0);
        try (DbServer fresh = DbServer.start(other)) {
            assertThat(DbBackup.restore(other, file)).isEqualTo(fresh.address());
            try (Connection c = DriverManager.getConnection(url(other.listen()), "foobar", Secrets.read(other.passwordFile()));
                 Statement s = c.createStatement()) {
                assertThat(queryStrings(s, "SELECT CONCAT(id, ':', text) FROM note ORDER BY id"))
                        .containsExactly("1:before the replica existed", "2:grüezi 👋");
            }
        }
    }

    @Test
    @Order(6)
    void aRestartedReplicaCatchesUpWithWhatItMissed() throws Exception {
        replica.close();
        try (Connection c = siteUser(primaryConfig.listen()); Statement s = c.createStatement()) {
            s.execute("INSERT INTO note VALUES (3, 'while the replica was down')");
        }
        long t = System.nanoTime();
        replica = DbServer.startReplica(primaryConfig, 1);
        log.info("measured: replica restart {} ms", (System.nanoTime() - t) / 1_000_000);
        assertThat(awaitRows(() -> rowsOnReplica(), "3:while the replica was down")).hasSize(3);
    }

    @Test
    @Order(7)
    void afterThePrimaryIsLostPromotionMakesTheReplicaTakeWritesAndTheSequentialUrlFindsIt() throws Exception {
        primary.close();
        primary = null;

        DbServer.Promotion promotion = DbServer.promote(primaryConfig, 1);

        assertThat(promotion.address()).isEqualTo(replicaConfig.listen());
        assertThat(promotion.wasReplica()).isTrue();
        assertThat(DbServer.writableAddress(primaryConfig)).isEqualTo(replicaConfig.listen());
        try (Connection c = siteUser(replicaConfig.listen()); Statement s = c.createStatement()) {
            s.execute("INSERT INTO note VALUES (4, 'on the promoted replica')");
        }
        assertThat(primaryConfig.jdbcUrl()).startsWith("jdbc:mariadb:sequential://");
        try (Connection c = DriverManager.getConnection(primaryConfig.jdbcUrl(), "foobar", Secrets.read(primaryConfig.passwordFile()));
             Statement s = c.createStatement()) {
            assertThat(queryStrings(s, "SELECT @@port")).containsExactly(String.valueOf(replicaConfig.listen().port()));
            s.execute("INSERT INTO note VALUES (5, 'through the sequential URL')");
            assertThat(queryStrings(s, "SELECT id FROM note ORDER BY id")).containsExactly("1", "2", "3", "4", "5");
        }
        HealthCheck.Result health = new ReplicaHealthCheck(primaryConfig, 1).check(PROBE_TIMEOUT);
        assertThat(health.healthy()).as("healthy: %s", health.detail()).isTrue();
        assertThat(health.detail()).contains("promoted");

        assertThat(DbServer.promote(primaryConfig, 1).wasReplica()).as("promoting twice").isFalse();
        assertThatThrownBy(() -> DbServer.start(primaryConfig))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("replica 1 was promoted to primary");
    }

    private List<String> rowsOnReplica() {
        try (Connection c = siteUser(replicaConfig.listen()); Statement s = c.createStatement()) {
            return queryStrings(s, "SELECT CONCAT(id, ':', text) FROM note ORDER BY id");
        } catch (SQLException e) {
            return List.of("error: " + e.getMessage());
        }
    }

    private static List<String> awaitRows(Supplier<List<String>> rows, String expected) throws InterruptedException {
        return await(rows, r -> r.contains(expected));
    }

    /** Polls until {@code done}, at most {@link #REPLICATION_WAIT}; returns the last value either way. */
    private static <T> T await(Supplier<T> probe, java.util.function.Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + REPLICATION_WAIT.toNanos();
        T value = probe.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            Thread.sleep(1);
            value = probe.get();
        }
        return value;
    }

    private Connection siteUser(HostPort address) throws SQLException {
        return DriverManager.getConnection(url(address), "foobar", Secrets.read(primaryConfig.passwordFile()));
    }

    private static String url(HostPort address) {
        return "jdbc:mariadb://" + address + "/foobar";
    }

    private static List<String> queryStrings(Statement s, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }

    /** A free port whose successor is free too: replica 1 listens on the primary's port + 1. */
    private static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket first = new ServerSocket()) {
                first.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = first.getLocalPort();
                if (port < 65535) {
                    try (ServerSocket second = new ServerSocket()) {
                        second.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port + 1));
                        return port;
                    } catch (IOException taken) {
                        // try another pair
                    }
                }
            }
        }
        throw new IOException("no free pair of adjacent loopback ports");
    }
}
