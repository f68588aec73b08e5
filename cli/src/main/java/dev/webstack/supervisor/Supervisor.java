package dev.webstack.supervisor;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.health.HealthCheck;
import dev.webstack.common.process.LibC;
import dev.webstack.db.DbServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's supervisor: runs every tier as its own OS process, in order (db, app, web, dns),
 * gates each on a real health check before starting the next, restarts a process that dies (with
 * exponential backoff, health-gated again; a web or DNS tier where the config file puts it now,
 * a web tier with the app servers that run put back in its pool), and stops them in reverse order,
 * each with SIGTERM and time to finish in-flight work before SIGKILL.
 *
 * <p>After {@code webstack db promote} the old primary ({@code db}) is <em>retired</em>: stopped if
 * it still runs, never restarted, and left out of the stack, which {@code var/run/stack.json}
 * records ({@link StackState.Database}); restarting it would give the site two servers that take
 * writes. {@code webstack db promote} has the supervisor do the promotion ({@link Operations#promote}):
 * it stops {@code db} first, so that no write reaches the old primary after the replica stopped
 * following it. A {@code db} that exits after a promotion done without the supervisor finds the
 * promotion marker before any restart and is retired the same way.
 *
 * <p>Each process is {@code java -cp <this class path> dev.webstack.cli.Webstack <tier> ...}: exactly
 * the command a user runs to start that tier alone. Its output goes to {@code var/log/<name>.log};
 * the supervisor's own events go to {@code var/log/supervisor.log} and to its console.
 *
 * <table>
 *   <caption>Restart policy</caption>
 *   <tr><td>first restart delay</td><td>{@value #FIRST_BACKOFF_MS} ms</td></tr>
 *   <tr><td>delay growth</td><td>doubles on each consecutive failure, at most {@value #MAX_BACKOFF_MS} ms</td></tr>
 *   <tr><td>reset</td><td>after {@value #STABLE_MS} ms of healthy running</td></tr>
 * </table>
 */
public final class Supervisor implements AutoCloseable {
    static final long FIRST_BACKOFF_MS = 250;
    static final long MAX_BACKOFF_MS = 30_000;
    static final long STABLE_MS = 60_000;
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    private static final long PROBE_INTERVAL_MS = 100;
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final StackConfig stack;
    private final List<Managed> managed = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile int controlPort;
    private volatile ControlServer control;
    // Scale, deploy, promote; null until every component is ready.
    private volatile Operations operations;
    private final PrintWriter console;
    // The file the console is (up -d's supervisor.out), which reopen opens again; empty: a terminal.
    private final Optional<Path> consoleFile;
    private final Path eventLog;
    // Each component's log, by name, kept across its restarts (TierLog).
    private final Map<String, TierLog> logs = new ConcurrentHashMap<>();
    private final ScheduledExecutorService restarts = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "supervisor-restarts");
        t.setDaemon(true);
        return t;
    });
    private volatile String phase = StackState.STARTING;
    private volatile boolean stopping;

    /** One component and the process currently running it. */
    private static final class Managed {
        // Replaced when the config file moves the tier (replan): web and DNS only.
        volatile Component component;
        volatile Process process;
        volatile String state = "stopped";
        volatile long healthySince;
        int restarts;
        int consecutiveFailures;

        Managed(Component component) {
            this.component = component;
        }
    }

    /**
     * @param console     where the progress and the events after the start are printed
     * @param consoleFile the file the process's standard output and error are, if they are a file
     *                    and not a terminal ({@code up -d}); {@link #reopenLogs} opens it again
     */
    public Supervisor(StackConfig stack, List<Component> components, PrintWriter console, Optional<Path> consoleFile) {
        this.stack = stack;
        this.console = console;
        this.consoleFile = consoleFile;
        this.eventLog = stack.logDir().resolve("supervisor.log");
        components.forEach(c -> managed.add(new Managed(c)));
    }

    /** Thrown by {@link #start} when a component does not become healthy; everything started is stopped again. */
    public static final class StartFailedException extends Exception {
        public StartFailedException(String message) {
            super(message);
        }
    }

    /**
     * Starts every component in order and returns once all are healthy. {@code progress} receives a
     * line per ready component.
     */
    public void start(ProgressListener progress) throws StartFailedException {
        try {
            Files.createDirectories(stack.logDir());
            Files.createDirectories(stack.runDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        event("supervisor pid " + ProcessHandle.current().pid() + " starting " + managed.size() + " components from " + stack.file());
        for (Managed m : managed) {
            long t0 = System.nanoTime();
            String failure = launchAndAwaitHealthy(m);
            if (failure != null) {
                phase = StackState.FAILED;
                writeState();
                String tail = logTail(m.component, 25);
                stopAll();
                throw new StartFailedException(m.component.name() + " did not start: " + failure
                        + (tail.isEmpty() ? "" : "\n--- last lines of " + logFile(m.component) + " ---\n" + tail));
            }
            progress.ready(m.component, m.process.pid(), Duration.ofNanos(System.nanoTime() - t0));
            writeState();
        }
        event("all components ready");
        try {
            operations = new Operations(this, StackPlan.webAdmin(stack));
            control = ControlServer.start(operations);
            controlPort = control.port();
        } catch (IOException e) {
            event("control API unavailable (scale and deploy will not work): " + e.getMessage());
        }
        phase = StackState.READY;
        writeState();
    }

    /** Receives a line of progress as each component becomes ready. */
    @FunctionalInterface
    public interface ProgressListener {
        void ready(Component component, long pid, Duration took);
    }

    /** Starts the component's process and polls its health check until healthy; returns null or why it failed. */
    private String launchAndAwaitHealthy(Managed m) {
        Component c = m.component;
        Process p;
        try {
            p = launch(c);
        } catch (IOException e) {
            return "cannot start its process: " + e.getMessage();
        }
        m.process = p;
        m.state = "starting";
        writeState();
        event(c.name() + " started as pid " + p.pid() + ", waiting for " + c.tier().label() + " health check");
        long deadline = System.nanoTime() + c.startTimeout().toNanos();
        HealthCheck.Result last = HealthCheck.Result.failed("not probed yet");
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                m.state = "exited";
                String lastWords = lastLine(c);
                return "its process " + ExitStatus.describe(p.exitValue())
                        + (lastWords.isEmpty() ? "" : " (" + logFile(c).getFileName() + ": " + lastWords + ")");
            }
            last = c.health().check(PROBE_TIMEOUT);
            if (last.healthy()) {
                m.state = "ready";
                m.healthySince = System.nanoTime();
                event(c.name() + " ready (" + last.detail() + ")");
                p.onExit().thenAccept(exited -> onExit(m, exited));
                return null;
            }
            try {
                Thread.sleep(PROBE_INTERVAL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
        kill(p, true);
        m.state = "unhealthy";
        return "not healthy after " + c.startTimeout().toSeconds() + " s (last check: " + last.detail() + ")";
    }

    /**
     * Flags every tier JVM gets on a Java that has them (23 and later; the tiers run on this
     * process's Java): Netty's native transports load a library, which is allowed up front instead
     * of warned about at every start; and from Java 25 Netty leaves {@code sun.misc.Unsafe} off
     * unless its memory access is allowed, and then copies buffers through {@code ByteBuffer} a
     * byte at a time (the web tier's proxy answered about a tenth fewer requests per second).
     * Their shell twin, {@code bin/runtime-flags}, gives the same to {@code ./webstack} and the benchmarks.
     */
    public static List<String> runtimeFlags(int javaFeatureVersion) {
        return javaFeatureVersion >= 23
                ? List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow")
                : List.of();
    }

    /**
     * The flags that have a tier JVM (Java 19 and later) start from a class-data sharing archive of
     * the classes its last run loaded, {@code archive}, and write one as it exits when there is
     * none ({@code -XX:+AutoCreateSharedArchive}): about 4,500 classes, which the DNS tier otherwise
     * loads and verifies one by one at each start (its first answer 1.3 s after the launch, 0.9 s
     * from the archive; NSD's 0.06 s). The archive is runtime state (14-30 MB a tier), named for
     * the Java and the jars it was made from ({@link #classArchive}). The JVM's own messages about
     * it (a line per class it leaves out, at exit) stay out of the tier's log. None for a class
     * path that holds a directory (classes not yet in jars: the JVM cannot archive those, and
     * would exit with an error).
     */
    static List<String> classDataSharing(Path archive, String classPath, int javaFeatureVersion) {
        if (!archivable(classPath, javaFeatureVersion)) {
            return List.of();
        }
        List<String> flags = new ArrayList<>(List.of("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + archive,
                "-Xlog:cds*=off"));
        if (javaFeatureVersion >= 24) {
            flags.add("-Xlog:aot*=off"); // the tag Java 24 added; an unknown tag stops the JVM before that
        }
        return List.copyOf(flags);
    }

    /** Whether a tier JVM of this Java on {@code classPath} gets a class-data sharing archive: Java 19 and later, jars only. */
    static boolean archivable(String classPath, int javaFeatureVersion) {
        return javaFeatureVersion >= 19
                && Arrays.stream(classPath.split(java.io.File.pathSeparator)).allMatch(e -> e.endsWith(".jar"));
    }

    /**
     * Where the class-data sharing archive of {@code component} is kept under {@code dir}: a name
     * that holds a digest of this Java and of each jar of {@code classPath} (its path, size and
     * time), so that a rebuilt jar or another Java gets an archive of its own. The JVM would find a
     * changed jar unfit, run without the archive, and not write it again: every start would be a
     * slow one until the file was removed. Archives of the component under other names are deleted.
     */
    static Path classArchive(Path dir, String component, String classPath) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java has SHA-256
        }
        digest.update((System.getProperty("java.home") + "\n" + Runtime.version() + "\n").getBytes(StandardCharsets.UTF_8));
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            String stamp = Files.exists(jar) ? Files.size(jar) + " " + Files.getLastModifiedTime(jar).toMillis() : "absent";
            digest.update((entry + " " + stamp + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String name = component + "-" + HexFormat.of().formatHex(digest.digest(), 0, 6) + ".jsa";
        Files.createDirectories(dir);
        try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, component + "-*.jsa")) {
            for (Path stale : old) {
                if (!stale.getFileName().toString().equals(name)) {
                    Files.deleteIfExists(stale);
                }
            }
        }
        return dir.resolve(name);
    }

    private Process launch(Component c) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(runtimeFlags(Runtime.version().feature()));
        String classPath = System.getProperty("java.class.path");
        if (archivable(classPath, Runtime.version().feature())) {
            // Named (and the stale ones deleted) only when there is one to use.
            cmd.addAll(classDataSharing(classArchive(stack.varDir().resolve("cds"), c.name(), classPath), classPath,
                    Runtime.version().feature()));
        }
        cmd.addAll(c.jvmOptions());
        cmd.add("-Dwebstack.component=" + c.name());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.webstack.cli.Webstack");
        cmd.addAll(c.tierArgs());
        cmd.add("--config");
        cmd.add(stack.file().toString());
        cmd.add("--supervisor-pid");
        cmd.add(Long.toString(ProcessHandle.current().pid()));
        TierLog log = tierLog(c);
        log.line("---- " + LocalDateTime.now() + " starting: " + String.join(" ", c.tierArgs()));
        Process p = new ProcessBuilder(cmd)
                .directory(stack.home().toFile())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.PIPE)
                .redirectInput(Redirect.from(new java.io.File("/dev/null")))
                .start();
        log.follow(p);
        return p;
    }

    /**
     * SIGTERM ({@code force}: SIGKILL) to {@code p}, through its handle: {@code Process.destroy} would
     * also close its output pipe, and the lines it writes as it stops would not reach its log.
     */
    private static void kill(Process p, boolean force) {
        if (force) {
            p.toHandle().destroyForcibly();
        } else {
            p.toHandle().destroy();
        }
    }

    private TierLog tierLog(Component c) {
        return logs.computeIfAbsent(c.name(), n -> new TierLog(logFile(c)));
    }

    /**
     * Opens every component's log file again ({@code ./webstack reopen}, after logrotate moved them),
     * and the console file if the output goes to one; returns the files.
     */
    List<Path> reopenLogs() throws IOException {
        List<Path> reopened = new ArrayList<>();
        for (TierLog log : logs.values()) {
            log.reopen();
            reopened.add(log.file());
        }
        if (consoleFile.isPresent()) {
            reopenConsole(consoleFile.get());
            reopened.add(consoleFile.get());
        }
        event("logs reopened: " + reopened.size());
        return reopened;
    }

    /**
     * Points this process's standard output and error (descriptors 1 and 2) at {@code file} opened
     * anew for appending, as nginx reopens its error log: what the JVM and the console print from
     * now on goes to the new file, none to the one logrotate moved away.
     */
    private void reopenConsole(Path file) throws IOException {
        if (!LibC.available()) {
            throw new IOException("cannot reopen " + file + ": no JNA in this process");
        }
        console.flush();
        System.out.flush();
        System.err.flush();
        int fd = LibC.open(file.toString(), LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND | LibC.O_CLOEXEC, 0644);
        if (fd < 0) {
            throw new IOException("cannot open " + file + " for appending");
        }
        try {
            if (LibC.dup2(fd, 1) < 0 || LibC.dup2(fd, 2) < 0) {
                throw new IOException("cannot point the console at " + file);
            }
        } finally {
            LibC.close(fd);
        }
    }

    private void onExit(Managed m, Process exited) {
        if (stopping || m.process != exited || !managed.contains(m) || "stopping".equals(m.state) || "stopped".equals(m.state)) {
            return;
        }
        if (isRetiredPrimary(m)) {
            retire(m, "exited");
            return;
        }
        Component c = m.component;
        String why = ExitStatus.describe(exited.exitValue());
        boolean wasStable = System.nanoTime() - m.healthySince > TimeUnit.MILLISECONDS.toNanos(STABLE_MS);
        if (wasStable) {
            m.consecutiveFailures = 0;
        }
        long delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(16, m.consecutiveFailures));
        m.state = "restarting";
        event(c.name() + " (pid " + exited.pid() + ") " + why + "; restarting in " + delay + " ms");
        writeState();
        restarts.schedule(() -> restart(m), delay, TimeUnit.MILLISECONDS);
    }

    private void restart(Managed m) {
        if (stopping || !managed.contains(m)) {
            return;
        }
        if (isRetiredPrimary(m)) {
            retire(m, "not restarted");
            return;
        }
        m.restarts++;
        if (m.component.tier() == Tier.WEB || m.component.tier() == Tier.DNS) {
            replan(m); // the new process reads the config file as it is now
        }
        String failure = launchAndAwaitHealthy(m);
        if (failure == null) {
            event(m.component.name() + " restarted (restart #" + m.restarts + ")");
            writeState();
            Operations ops = operations;
            if (m.component.tier() == Tier.WEB && ops != null) {
                ops.webRestarted(); // its pool is the config's again, not what scale and deploy made it
            }
            return;
        }
        m.consecutiveFailures++;
        long delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(16, m.consecutiveFailures));
        event(m.component.name() + " failed to restart: " + failure + "; next try in " + delay + " ms");
        Process p = m.process;
        if (p != null) {
            kill(p, true);
        }
        writeState();
        restarts.schedule(() -> restart(m), delay, TimeUnit.MILLISECONDS);
    }

    StackConfig stack() {
        return stack;
    }

    /** The app server components now supervised, in start order. */
    List<Component> appServers() {
        return managed.stream().map(m -> m.component).filter(c -> c.tier() == Tier.APP).toList();
    }

    /**
     * Starts one more component (placed after the other app servers, so stop order stays web before
     * app) and waits for its health check; null when it is healthy, else why not (and it is gone).
     */
    String add(Component c) {
        Managed m = new Managed(c);
        int at = 0;
        for (int i = 0; i < managed.size(); i++) {
            if (managed.get(i).component.tier().ordinal() <= c.tier().ordinal()) {
                at = i + 1;
            }
        }
        managed.add(at, m);
        String failure = launchAndAwaitHealthy(m);
        if (failure != null) {
            managed.remove(m);
            Process p = m.process;
            if (p != null) {
                kill(p, true);
            }
        }
        writeState();
        return failure;
    }

    /** Stops one component gracefully (SIGTERM, then SIGKILL after its stop timeout) and forgets it. */
    void remove(String name) {
        for (Managed m : managed) {
            if (m.component.name().equals(name)) {
                managed.remove(m);
                stopOne(m);
                writeState();
                return;
            }
        }
    }

    /**
     * Before a promotion: stops the primary ({@code db}) if it runs and forgets it, so that it is
     * not restarted while, and after, replica 1 becomes the primary. Returns its component, to
     * start again with {@link #add} if the promotion fails; empty when there is no {@code db}.
     */
    Optional<Component> retirePrimary() {
        for (Managed m : managed) {
            if (m.component.name().equals(StackPlan.PRIMARY) && m.component.tier() == Tier.DB) {
                managed.remove(m);
                stopOne(m);
                event("db stopped for the promotion of replica 1, and not restarted");
                writeState();
                return Optional.of(m.component);
            }
        }
        return Optional.empty();
    }

    /** Records the topology again (after a promotion). */
    void topologyChanged() {
        writeState();
    }

    /**
     * After {@code ./webstack reload}: the web tier's address and health check as {@code now}, the
     * config file read again, says (a reload may have moved {@code web.listen}). Returns a line per
     * change; none when nothing moved.
     */
    List<String> replanWeb(StackConfig now) {
        List<String> changes = new ArrayList<>();
        for (Managed m : managed) {
            if (m.component.tier() == Tier.WEB) {
                HostPort before = m.component.address();
                if (replan(m, now) && !before.equals(m.component.address())) {
                    changes.add(m.component.name() + " listens on " + m.component.address() + " now (was " + before + ")");
                }
            }
        }
        if (!changes.isEmpty()) {
            writeState();
        }
        return changes;
    }

    /** Takes {@code m}'s plan from the config file as it is now; its plan stays when the file does not load. */
    private void replan(Managed m) {
        try {
            replan(m, StackConfig.load(stack.file()));
        } catch (RuntimeException e) {
            event(m.component.name() + ": " + stack.file() + " does not load (" + e.getMessage() + "); its plan stays");
        }
    }

    /** Takes {@code m}'s plan from {@code now}; false when {@code now} plans no such component. */
    private boolean replan(Managed m, StackConfig now) {
        for (Component c : StackPlan.components(now)) {
            if (c.name().equals(m.component.name()) && c.tier() == m.component.tier()) {
                m.component = c;
                return true;
            }
        }
        return false;
    }

    private boolean isRetiredPrimary(Managed m) {
        return m.component.name().equals(StackPlan.PRIMARY) && m.component.tier() == Tier.DB && StackPlan.promoted(stack.db());
    }

    private void retire(Managed m, String how) {
        managed.remove(m);
        stopOne(m);
        event("db " + how + " and retired: replica 1 was promoted to primary; db is not restarted (rebuild it as docs/DATABASE.md says)");
        writeState();
    }

    void log(String message) {
        event(message);
    }

    /** Stops every component in reverse start order, each with SIGTERM, then SIGKILL after its stop timeout. */
    @Override
    public void close() {
        stopAll();
    }

    private synchronized void stopAll() {
        if (!stopping) {
            stopping = true;
            restarts.shutdownNow();
            if (control != null) {
                control.close();
            }
        }
        if (!StackState.FAILED.equals(phase)) {
            phase = StackState.STOPPING;
        }
        writeState();
        for (int i = managed.size() - 1; i >= 0; i--) {
            stopOne(managed.get(i));
        }
        writeState();
    }

    private void stopOne(Managed m) {
        Process p = m.process;
        m.state = "stopping";
        if (p == null || !p.isAlive()) {
            m.state = "stopped";
            return;
        }
        long t0 = System.nanoTime();
        kill(p, false);
        try {
            if (!p.waitFor(m.component.stopTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                event(m.component.name() + " did not stop within " + m.component.stopTimeout().toSeconds() + " s; killing it");
                kill(p, true);
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(p, true);
        }
        tierLog(m.component).awaitCopied(Duration.ofSeconds(2)); // its last lines, before the supervisor exits
        m.state = "stopped";
        event(m.component.name() + " stopped (" + (System.nanoTime() - t0) / 1_000_000 + " ms)");
    }

    private synchronized void writeState() {
        List<StackState.Entry> entries = new ArrayList<>();
        for (Managed m : managed) {
            Process p = m.process;
            Component c = m.component;
            entries.add(new StackState.Entry(c.name(), c.tier().label(), p != null && p.isAlive() ? p.pid() : 0,
                    c.address().toString(), m.state, c.summary(), m.restarts));
        }
        new StackState(ProcessHandle.current().pid(), phase, controlPort, entries, StackPlan.database(stack)).write(stack.runDir());
    }

    private Path logFile(Component c) {
        return stack.logDir().resolve(c.name() + ".log");
    }

    private String logTail(Component c, int lines) {
        tierLog(c).awaitCopied(Duration.ofSeconds(1)); // what the process said last, if it has exited
        try {
            List<String> all = Files.readAllLines(logFile(c), StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    /** The log's last non-blank line: what a process that exited while starting said last, usually why. */
    private String lastLine(Component c) {
        List<String> lines = logTail(c, 5).lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
    }

    private synchronized void event(String message) {
        String line = LocalDateTime.now().format(TIMESTAMP) + " supervisor: " + message;
        try {
            Files.writeString(eventLog, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The console still gets the event.
        }
        if (!StackState.STARTING.equals(phase) || message.contains("exited") || message.contains("killed")) {
            console.println(line);
            console.flush();
        }
    }
}
