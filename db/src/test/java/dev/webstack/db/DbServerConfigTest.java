package dev.webstack.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What DbServer decides without starting anything. */
class DbServerConfigTest {

    @Test
    void socketLivesInTheDataDirUnlessThePathIsTooLong() {
        assertThat(DbServer.socketPath(Path.of("/srv/webstack/var/db"), 3307)).isEqualTo(Path.of("/srv/webstack/var/db/mariadb.sock"));
        Path deep = Path.of("/srv/" + "x".repeat(90) + "/var/db");
        assertThat(DbServer.socketPath(deep, 3307)).isEqualTo(Path.of("/tmp/webstack-db-3307.sock"));
    }

    @Test
    void externalAddressComesFromTheJdbcUrl() {
        assertThat(DbServer.addressOf("jdbc:mariadb://db.example.com:3310/foobar?useSsl=true")).isEqualTo(new HostPort("db.example.com", 3310));
        assertThat(DbServer.addressOf("jdbc:mysql://db.example.com/foobar")).isEqualTo(new HostPort("db.example.com", 3306));
        assertThat(DbServer.addressOf("jdbc:mariadb://[::1]:3311,other:3312/foobar")).isEqualTo(new HostPort("::1", 3311));
    }

    @Test
    void externalModeStartsNothing() {
        DbConfig config = new DbConfig(DbConfig.Mode.EXTERNAL, new HostPort("127.0.0.1", 3307), "foobar", "foobar",
                Path.of("/nonexistent/db"), Optional.empty(), Optional.of("jdbc:mariadb://127.0.0.1:1/foobar"),
                Path.of("/nonexistent/db-foobar.password"), 0);
        try (DbServer server = DbServer.start(config)) {
            assertThat(server.address()).isEqualTo(new HostPort("127.0.0.1", 1));
            assertThat(server.pid()).isEmpty();
        }
        assertThat(new JdbcHealthCheck(config).check(java.time.Duration.ofMillis(500)).healthy()).isFalse();
    }

    @Test
    void namesThatWouldNeedQuotingAreRefused() {
        DbConfig config = new DbConfig(DbConfig.Mode.EMBEDDED, new HostPort("127.0.0.1", 3307), "foo`bar", "foobar",
                Path.of("/nonexistent/db"), Optional.empty(), Optional.empty(), Path.of("/nonexistent/pw"), 0);
        assertThatThrownBy(() -> DbServer.start(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("database: 'foo`bar' (expected: 1-64 letters, digits and _)");
    }
}
