package dev.webstack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code webstack db} and its tools, in process, on their output and exit code; no server is started. */
class DbTierCommandTest {

    @TempDir
    Path dir;

    private final InProcessCli cli = new InProcessCli();
    private final StringWriter out = cli.out;
    private final StringWriter err = cli.err;

    private int run(String... args) {
        return cli.run(args);
    }

    @Test
    void backupHelpDescribesTheFileArgument() {
        assertThat(run("db", "backup", "--help")).isZero();
        assertThat(out.toString())
                .contains("Usage: webstack db backup")
                .contains("[FILE]")
                .contains("var/backups/<database>-<yyyyMMdd-HHmmss>.sql");
    }

    @Test
    void dbHelpListsTheToolsAndTheReplicaOption() {
        assertThat(run("db", "--help")).isZero();
        assertThat(out.toString()).contains("backup", "restore", "promote", "--replica=N");
    }

    @Test
    void promoteRefusesWhenNoReplicaRuns() throws IOException {
        Path config = config("replicas: 1");

        int exit = run("db", "promote", "--config", config.toString());

        assertThat(exit).as("exit code; err: %s", err).isEqualTo(1);
        assertThat(err.toString()).contains("webstack: db promote: replica 1 is not running").contains("webstack db --replica 1");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void promoteWithoutAReplicaConfiguredSaysHowToGetOne() throws IOException {
        Path config = config("replicas: 0");

        int exit = run("db", "--config", config.toString(), "promote");

        assertThat(exit).as("exit code; err: %s", err).isEqualTo(2);
        assertThat(err.toString()).contains("replica 1: db.replicas is 0 (set db.replicas: 1 in the config to run one)");
    }

    @Test
    void restoreOfAMissingFileFailsBeforeConnecting() throws IOException {
        Path config = config("replicas: 0");

        int exit = run("db", "restore", "--config", config.toString(), dir.resolve("nope.sql").toString());

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("db restore: ").contains("nope.sql: no such file");
    }

    /** A config whose database listens on a free port pair (so nothing answers there). */
    private Path config(String replicas) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = s.getLocalPort();
        }
        Path file = dir.resolve("webstack.yml");
        Files.writeString(file, """
                db:
                  listen: 127.0.0.1:%d
                  %s
                """.formatted(port, replicas));
        return file;
    }
}
