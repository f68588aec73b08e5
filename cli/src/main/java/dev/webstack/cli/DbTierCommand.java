package dev.webstack.cli;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.process.TierRuntime;
import dev.webstack.db.DbBackup;
import dev.webstack.db.DbServer;
import dev.webstack.supervisor.ControlClient;
import dev.webstack.supervisor.StackState;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code webstack db}: without a subcommand, runs the database tier (the primary, or with
 * {@code --replica N} replica N) in the foreground; with one, a tool for the database: backup,
 * restore, promote. Each tool takes {@code --config} itself or from {@code db}.
 */
@Command(name = "db", mixinStandardHelpOptions = true,
        description = {
            "Run the database tier in the foreground: the embedded MariaDB server (db section of the config), "
                    + "or with --replica N its GTID replica N.",
            "With a subcommand, back the database up, restore it, or promote the replica."},
        subcommands = {DbTierCommand.Backup.class, DbTierCommand.Restore.class, DbTierCommand.Promote.class})
final class DbTierCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DbTierCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    TierOptions tier;

    @Option(names = "--replica", paramLabel = "N",
            description = "Run replica N (1) of the embedded server instead of the server itself; needs db.replicas >= N.")
    Integer replica;

    @Override
    public Integer call() {
        DbConfig db = config.load().db();
        if (replica == null) {
            DbServer server = start(() -> DbServer.start(db));
            log.info("db: ready on {} (mode {})", server.address(), db.mode().name().toLowerCase());
            TierRuntime.runUntilStopped("db", server, tier.supervisor());
            return 0;
        }
        checkReplica(db, replica);
        DbServer server = start(() -> DbServer.startReplica(db, replica));
        log.info("db-replica-{}: ready on {}", replica, server.address());
        TierRuntime.runUntilStopped("db-replica-" + replica, server, tier.supervisor());
        return 0;
    }

    private static DbServer start(Supplier<DbServer> start) {
        try {
            return orFail("", start);
        } catch (CommandFailedException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CommandFailedException(e.toString(), 1);
        }
    }

    /**
     * Runs a database operation, turning the failures it reports (a server that does not start or
     * answer, a bad argument, a tool's I/O error) into the command's message, exit code 1.
     */
    static <T> T orFail(String prefix, Supplier<T> operation) {
        try {
            return operation.get();
        } catch (IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
            throw new CommandFailedException(prefix + e.getMessage(), 1);
        }
    }

    static void checkReplica(DbConfig db, int n) {
        if (db.mode() != DbConfig.Mode.EMBEDDED) {
            throw new CommandFailedException("replica " + n + ": db.mode is external; webstack runs replicas of its embedded server only", 2);
        }
        if (n < 1 || n > db.replicas()) {
            throw new CommandFailedException("replica " + n + ": db.replicas is " + db.replicas()
                    + (db.replicas() == 0 ? " (set db.replicas: 1 in the config to run one)" : " (expected: 1-" + db.replicas() + ")"), 2);
        }
    }

    /** The config of a subcommand: its own --config, else the one given to {@code db}. */
    StackConfig load(ConfigOption own) {
        return (own.file != null || config == null ? own : config).load();
    }

    @Command(name = "backup", mixinStandardHelpOptions = true,
            description = {
                "Write a consistent dump of the site's database (mariadb-dump --single-transaction, with routines, "
                        + "triggers and events; no accounts or passwords) and print where it went.",
                "Logs in as the site user; the server that takes writes must be running."})
    static final class Backup implements Callable<Integer> {
        @ParentCommand
        DbTierCommand parent;

        @Mixin
        ConfigOption config;

        @Spec
        CommandSpec spec;

        @Parameters(arity = "0..1", paramLabel = "FILE",
                description = "Where to write the dump (default: var/backups/<database>-<yyyyMMdd-HHmmss>.sql).")
        Path file;

        @Override
        public Integer call() {
            StackConfig stack = parent.load(config);
            DbConfig db = stack.db();
            Path target = file != null ? file : stack.varDir().resolve("backups")
                    .resolve(db.database() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".sql");
            DbBackup.Written written = orFail("db backup: ", () -> DbBackup.backup(db, target));
            spec.commandLine().getOut().printf("%s (%s) from %s%n", written.file(), size(written.bytes()), written.from());
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {
                "Load a dump written by 'webstack db backup' into the site's database: its tables replace those of the same name.",
                "Goes to the server that takes writes (the primary, or the promoted replica); a replica receives it by replication."})
    static final class Restore implements Callable<Integer> {
        @ParentCommand
        DbTierCommand parent;

        @Mixin
        ConfigOption config;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "The dump to load.")
        Path file;

        @Override
        public Integer call() {
            if (!Files.isRegularFile(file)) {
                throw new CommandFailedException("db restore: " + file + ": no such file", 2);
            }
            DbConfig db = parent.load(config).db();
            HostPort to = orFail("db restore: ", () -> DbBackup.restore(db, file));
            spec.commandLine().getOut().printf("restored %s into '%s' on %s%n", file, db.database(), to);
            return 0;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = {
                "Make replica 1 the server that takes writes, after the primary is lost: it stops replicating, applies what "
                        + "it received, and turns read_only off. The app servers' JDBC URL lists it second, so they reach it "
                        + "once the primary no longer answers.",
                "Transactions the primary committed but had not yet sent to the replica are lost (asynchronous replication; "
                        + "see docs/DATABASE.md). Afterwards the old primary refuses to start until it is rebuilt.",
                "With a running stack the supervisor does it: it stops db first and never restarts it, then promotes, "
                        + "and records the new topology in var/run/stack.json."})
    static final class Promote implements Callable<Integer> {
        /** How long the primary gets to accept a TCP connection before it counts as gone. */
        private static final int PRIMARY_PROBE_MILLIS = 1000;

        @ParentCommand
        DbTierCommand parent;

        @Mixin
        ConfigOption config;

        @Spec
        CommandSpec spec;

        @Option(names = "--force",
                description = "Promote even though the primary still answers: the supervisor stops it first; without a running "
                        + "stack, stop it yourself at once (both would take writes).")
        boolean force;

        @Override
        public Integer call() {
            StackConfig stack = parent.load(config);
            DbConfig db = stack.db();
            checkReplica(db, 1);
            if (DbServer.answers(db.listen(), PRIMARY_PROBE_MILLIS) && !force) {
                throw new CommandFailedException("db promote: the primary on " + db.listen() + " still answers; promoting now would "
                        + "give the site two servers that take writes. Stop it first (or use --force if it answers but is broken)", 3);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (StackState.readLive(stack.runDir()).isPresent()) {
                return promoteBySupervisor(stack, out);
            }
            DbServer.Promotion p = orFail("db promote: ", () -> DbServer.promote(db, 1));
            out.printf(p.wasReplica()
                            ? "replica 1 on %s is the primary now (GTID position %s); the app servers reach it once %s no longer answers; "
                                    + "the next ./webstack up starts it as the primary, without db%n"
                            : "replica 1 on %s was already a primary (GTID position %s); nothing changed (primary: %s)%n",
                    p.address(), p.gtidPosition(), db.listen());
            return 0;
        }

        /**
         * With a running stack the supervisor promotes: it stops the old primary first and never
         * restarts it, then promotes the replica and records the topology in stack.json.
         */
        private static int promoteBySupervisor(StackConfig stack, PrintWriter out) {
            try {
                out.println("db promote, by the supervisor:");
                return ControlClient.run(stack, "/promote", out) ? 0 : 1;
            } catch (ControlClient.Unavailable e) {
                throw new CommandFailedException("db promote: " + e.getMessage(), e.exitCode());
            } catch (java.io.IOException e) {
                throw new CommandFailedException("db promote: cannot reach the supervisor: " + e.getMessage(), 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandFailedException("db promote: interrupted", 1);
            }
        }
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format("%.1f KiB", bytes / 1024.0);
        }
        return String.format("%.1f MiB", bytes / (1024.0 * 1024));
    }
}
