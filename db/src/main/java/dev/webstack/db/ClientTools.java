package dev.webstack.db;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * MariaDB's own client programs ({@code mariadb}, {@code mariadb-dump}) from the same installation
 * as the server: the bundled binaries under {@code <data-dir>/base/bin} (unpacked there when
 * missing, which is also how external mode gets them), or {@code PREFIX/bin} of
 * {@code server-binary}.
 *
 * <p>Credentials never appear on a command line, where {@code ps} would show them to every local
 * user: each run gets a 0600 option file passed as {@code --defaults-file}, deleted afterwards.
 * {@code --defaults-file} rather than {@code --defaults-extra-file}: no {@code /etc/my.cnf} or
 * {@code ~/.my.cnf} can add a host, a user or TLS settings behind webstack's back.
 */
final class ClientTools {
    /** How long one client program may run: a dump or load of a large database takes minutes. */
    static final long RUN_TIMEOUT_MINUTES = 60;
    private static final int STDERR_TAIL = 2000;

    private final Path bin;

    private ClientTools(Path bin) {
        this.bin = bin;
    }

    /** The clients matching {@code config}'s server; unpacks the bundled binaries when needed. */
    static ClientTools of(DbConfig config) {
        if (config.mode() == DbConfig.Mode.EMBEDDED && config.serverBinary().isPresent()) {
            Path binary = config.serverBinary().get().toAbsolutePath();
            Path prefix = Optional.ofNullable(binary.getParent()).map(Path::getParent).orElseThrow(() ->
                    new IllegalArgumentException("server-binary: '" + binary + "' (expected: PREFIX/sbin/mariadbd or PREFIX/bin/mariadbd)"));
            return new ClientTools(prefix.resolve("bin"));
        }
        Path base = config.dataDir().toAbsolutePath().normalize().resolve("base");
        DbServer.ensureUnpacked(base);
        return new ClientTools(base.resolve("bin"));
    }

    /** How a client logs in: over a unix socket (admin) or TCP (the site user). */
    record Login(String user, String password, Optional<Path> socket, Optional<HostPort> tcp) {
        static Login socket(Path socket, String user, String password) {
            return new Login(user, password, Optional.of(socket), Optional.empty());
        }

        static Login tcp(HostPort address, String user, String password) {
            return new Login(user, password, Optional.empty(), Optional.of(address));
        }

        /** The option file's text. Values are double-quoted: our passwords are base64url, never a quote. */
        String optionFile() {
            StringBuilder s = new StringBuilder("[client]\n");
            s.append("user=\"").append(user).append("\"\n");
            s.append("password=\"").append(password).append("\"\n");
            socket.ifPresent(p -> s.append("protocol=socket\nsocket=\"").append(p).append("\"\n"));
            tcp.ifPresent(a -> s.append("protocol=tcp\nhost=").append(a.host()).append("\nport=").append(a.port()).append('\n'));
            // The server offers no TLS (see DbServer); 11.4 clients otherwise insist on it.
            s.append("skip-ssl\n");
            return s.toString();
        }
    }

    /** A client program about to run: its command line refers to the option file, deleted by {@link #close()}. */
    final class Run implements AutoCloseable {
        final ProcessBuilder builder;
        private final Path optionFile;
        private final Path stderr;

        private Run(String tool, Login login, List<String> args) {
            try {
                optionFile = Files.createTempFile("webstack-client-", ".cnf",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(optionFile, login.optionFile(), StandardCharsets.UTF_8);
                stderr = Files.createTempFile("webstack-client-", ".err",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (IOException e) {
                throw new UncheckedIOException("db: cannot write a client option file: " + e.getMessage(), e);
            }
            List<String> command = new ArrayList<>();
            command.add(bin.resolve(tool).toString());
            // Must be the first argument, or the client ignores it.
            command.add("--defaults-file=" + optionFile);
            command.addAll(args);
            builder = new ProcessBuilder(command).redirectError(Redirect.to(stderr.toFile()));
        }

        /** The last characters the program wrote to stderr, for an error message. */
        String stderrTail() {
            try {
                String s = Files.readString(stderr, StandardCharsets.UTF_8).strip();
                return s.length() <= STDERR_TAIL ? s : "…" + s.substring(s.length() - STDERR_TAIL);
            } catch (IOException e) {
                return "(stderr unreadable: " + e.getMessage() + ")";
            }
        }

        String tool() {
            return Path.of(builder.command().get(0)).getFileName().toString();
        }

        @Override
        public void close() {
            try {
                Files.deleteIfExists(optionFile);
                Files.deleteIfExists(stderr);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    Run prepare(String tool, Login login, List<String> args) {
        Path program = bin.resolve(tool);
        if (!Files.isExecutable(program)) {
            throw new IllegalStateException("db: " + program + " not found or not executable (it comes with the MariaDB server installation)");
        }
        return new Run(tool, login, args);
    }

    /** Waits for {@code process} of {@code run}; throws with its exit code and stderr unless it exited 0. */
    static void await(Run run, Process process) {
        try {
            if (!process.waitFor(RUN_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("db: " + run.tool() + " still running after " + RUN_TIMEOUT_MINUTES + " min, killed");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("db: interrupted while " + run.tool() + " ran", e);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("db: " + run.tool() + " failed (exit " + process.exitValue() + "): " + run.stderrTail());
        }
    }
}
