package dev.webstack.supervisor;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import dev.webstack.db.DbServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What the running supervisor does on request, one operation at a time: scale the app servers and
 * deploy a new codebase without downtime. Each step is said on {@code progress} as it happens.
 *
 * <p>Deploy, with two or more app servers, is rolling: for each server in turn the web tier drains
 * it (no new requests; in-flight ones finish), the supervisor stops it and starts it again on the
 * new codebase, its readiness check gates it, and the web tier takes it back. With one app server
 * the new version starts beside the old one (the next free app-N, on its own port), takes traffic
 * once ready, and then the old one is drained and stopped: the seed's one-server topology deploys
 * without downtime too. A new version that does not become ready in time is stopped and the old one
 * is put back; the operation fails with the reason.
 */
final class Operations {
    private static final Duration ADMIT_TIMEOUT = Duration.ofSeconds(30);
    private static final DateTimeFormatter VERSION = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final Supervisor supervisor;
    // Replaced when a reload moves web.admin (reloaded).
    private volatile WebAdminClient web;
    private volatile Path codebase;

    /** An operation that could not be completed; what was changed before it failed was put back. */
    static final class OperationFailed extends Exception {
        OperationFailed(String message) {
            super(message);
        }
    }

    Operations(Supervisor supervisor, HostPort webAdmin) {
        this.supervisor = supervisor;
        this.web = new WebAdminClient(webAdmin);
        this.codebase = supervisor.stack().app().codebase();
    }

    synchronized void scale(int target, PrintWriter progress) throws OperationFailed, IOException, InterruptedException {
        StackConfig stack = supervisor.stack();
        if (target < 1 || target > dev.webstack.common.config.AppConfig.MAX_SERVERS) {
            throw new OperationFailed("app=" + target + " (expected: 1-" + dev.webstack.common.config.AppConfig.MAX_SERVERS + ")");
        }
        List<Component> apps = sorted(supervisor.appServers());
        say(progress, "app servers: " + apps.size() + " -> " + target);
        while (apps.size() < target) {
            String name = nextFreeName(apps);
            Component c = StackPlan.appServer(stack, name, codebase);
            startAndAdmit(c, progress);
            apps = sorted(supervisor.appServers());
        }
        while (apps.size() > target) {
            Component last = apps.get(apps.size() - 1);
            drainAndStop(last, true, progress);
            apps = sorted(supervisor.appServers());
        }
        say(progress, "app servers now: " + names(apps));
    }

    /** {@code ./webstack reopen}: every component's log file opened again (after logrotate moved them). */
    void reopenLogs(PrintWriter progress) throws IOException {
        List<Path> files = supervisor.reopenLogs();
        say(progress, "logs: " + files.size() + " reopened in " + supervisor.stack().logDir());
    }

    /**
     * After {@code ./webstack reload}: the supervisor checks the web tier, and reaches its admin API,
     * where the config file puts them now, and says which changed sections wait for the next start
     * ({@link StackPlan#appliedAtNextStart}).
     */
    void reloaded(PrintWriter progress) {
        StackConfig now;
        try {
            now = StackConfig.load(supervisor.stack().file());
        } catch (RuntimeException e) {
            say(progress, supervisor.stack().file() + " does not load (" + e.getMessage() + "); the web tier is checked and reached where it was");
            return;
        }
        for (String change : supervisor.replanWeb(now)) {
            say(progress, change);
        }
        for (String left : StackPlan.appliedAtNextStart(supervisor.stack(), now)) {
            say(progress, left);
        }
        HostPort admin = StackPlan.webAdmin(now);
        if (!admin.equals(web.admin())) {
            say(progress, "web's admin API on " + admin + " now (was " + web.admin() + ")");
            web = new WebAdminClient(admin);
        }
    }

    /**
     * {@code webstack db promote}: stops the primary for good first (should it still run, any
     * write it took after the replica stopped following it would be lost), then makes replica 1
     * the primary ({@link DbServer#promote}) and records the topology. If the promotion fails, the
     * primary is started again.
     */
    synchronized void promote(PrintWriter progress) throws OperationFailed {
        DbConfig db = supervisor.stack().db();
        if (StackPlan.promoted(db)) {
            supervisor.retirePrimary();
            supervisor.topologyChanged();
            throw new OperationFailed("replica 1 on " + db.replica(1).listen() + " is the primary already; nothing changed");
        }
        Optional<Component> primary = supervisor.retirePrimary();
        say(progress, primary.isPresent() ? "db stopped and retired: it is not restarted" : "db was not supervised");
        DbServer.Promotion p;
        try {
            p = DbServer.promote(db, 1);
        } catch (RuntimeException e) {
            String back = primary.map(supervisor::add).map(failure -> "; db did not start again: " + failure)
                    .orElse(primary.isPresent() ? "; db started again" : "");
            throw new OperationFailed("promotion failed: " + e.getMessage() + back);
        }
        supervisor.topologyChanged();
        say(progress, "replica 1 on " + p.address() + " is the primary now (GTID position " + p.gtidPosition()
                + "); var/run/stack.json records it; the app servers follow (their JDBC URL lists it after " + db.listen() + ")");
    }

    synchronized void deploy(Path source, PrintWriter progress) throws OperationFailed, IOException, InterruptedException {
        if (!Files.exists(source)) {
            throw new OperationFailed("no codebase at " + source + " (expected a .war file or an exploded webapp folder)");
        }
        Path pinned = pin(source);
        say(progress, "codebase " + source + " pinned as " + pinned);
        Path previous = codebase;
        List<Component> apps = sorted(supervisor.appServers());
        StackConfig stack = supervisor.stack();
        if (apps.size() == 1) {
            Component old = apps.get(0);
            Component fresh = StackPlan.appServer(stack, nextFreeName(apps), pinned);
            say(progress, "one app server: starting the new version beside " + old.name() + " as " + fresh.name());
            startAndAdmit(fresh, progress);
            drainAndStop(old, true, progress);
        } else {
            for (Component old : apps) {
                drainAndStop(old, false, progress);
                Component fresh = StackPlan.appServer(stack, old.name(), pinned);
                String failure = supervisor.add(fresh);
                if (failure == null) {
                    failure = admit(fresh, progress);
                }
                if (failure != null) {
                    say(progress, fresh.name() + ": the new version is not ready (" + failure + "); rolling back");
                    supervisor.remove(fresh.name());
                    Component back = StackPlan.appServer(stack, old.name(), previous);
                    String again = supervisor.add(back);
                    if (again == null) {
                        web.enable(back.name());
                        web.awaitServing(back.name(), ADMIT_TIMEOUT);
                    }
                    throw new OperationFailed("deploy stopped at " + old.name() + ": " + failure
                            + "; the old version " + previous.getFileName() + " keeps serving"
                            + (again == null ? "" : " (but " + old.name() + " did not come back: " + again + ")"));
                }
                say(progress, fresh.name() + ": serving " + pinned.getFileName());
            }
        }
        codebase = pinned;
        say(progress, "deployed " + pinned.getFileName() + " to " + names(sorted(supervisor.appServers())));
    }

    /**
     * After the supervisor restarted the web tier: a new web process starts with the config's app
     * servers, so the pool is made the app servers that run now again (those scale and deploy
     * started put back, those they stopped removed). A pool the config lists ({@code web.upstreams})
     * is the operator's and is left as it is.
     */
    void webRestarted() {
        if (!supervisor.stack().web().upstreams().isEmpty()) {
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                restorePool();
                return;
            } catch (IOException e) {
                // The first call may meet a pooled connection to the web process that died.
                if (attempt == 5) {
                    supervisor.log("web: pool not restored after the restart (" + e + "): it serves the config's app servers");
                    return;
                }
            }
            try {
                Thread.sleep(200L * attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Makes the web tier's pool the app servers that run now. */
    private void restorePool() throws IOException {
        List<Component> apps = supervisor.appServers();
        Set<String> running = apps.stream().map(Component::name).collect(Collectors.toSet());
        Map<String, String> pool = new HashMap<>();
        for (WebAdminClient.Member m : web.members()) {
            if (running.contains(m.name())) {
                pool.put(m.name(), m.address());
            } else {
                web.remove(m.name());
            }
        }
        for (Component c : apps) {
            if (!c.address().toString().equals(pool.get(c.name()))) {
                web.put(c.name(), c.address());
                web.enable(c.name());
            }
        }
        supervisor.log("web: pool restored after the restart: " + names(apps));
    }

    /** Starts an app server, gates it on its readiness, then has the web tier admit it. */
    private void startAndAdmit(Component c, PrintWriter progress) throws OperationFailed, IOException, InterruptedException {
        say(progress, c.name() + ": starting on " + c.address());
        String failure = supervisor.add(c);
        if (failure != null) {
            throw new OperationFailed(c.name() + " did not become ready: " + failure);
        }
        web.put(c.name(), c.address());
        String notAdmitted = admit(c, progress);
        if (notAdmitted != null) {
            web.remove(c.name());
            supervisor.remove(c.name());
            throw new OperationFailed(notAdmitted);
        }
    }

    /** Enables an app server in the web tier and waits for its health check there; null or why not. */
    private String admit(Component c, PrintWriter progress) throws IOException, InterruptedException {
        web.enable(c.name());
        if (!web.awaitServing(c.name(), ADMIT_TIMEOUT)) {
            return "the web tier did not find " + c.name() + " healthy within " + ADMIT_TIMEOUT.toSeconds() + " s";
        }
        say(progress, c.name() + ": ready and taking requests");
        return null;
    }

    private void drainAndStop(Component c, boolean removeFromPool, PrintWriter progress) throws IOException, InterruptedException {
        web.drain(c.name());
        Duration wait = supervisor.stack().app().shutdownTimeout();
        boolean idle = web.awaitIdle(c.name(), wait);
        say(progress, c.name() + ": drained" + (idle ? "" : " (requests still in flight after " + wait.toSeconds() + " s)"));
        if (removeFromPool) {
            web.remove(c.name());
        }
        supervisor.remove(c.name());
        say(progress, c.name() + ": stopped");
    }

    /** Copies the codebase under var/codebases so later builds cannot change what is deployed. */
    private Path pin(Path source) throws IOException {
        Path dir = supervisor.stack().varDir().resolve("codebases");
        Files.createDirectories(dir);
        String name = source.getFileName().toString();
        String base = name.endsWith(".war") ? name.substring(0, name.length() - 4) : name;
        String version = base + "-" + LocalDateTime.now().format(VERSION);
        if (Files.isDirectory(source)) {
            Path target = dir.resolve(version);
            try (Stream<Path> files = Files.walk(source)) {
                for (Path p : files.toList()) {
                    Path t = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(t);
                    } else {
                        Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            return target;
        }
        Path target = dir.resolve(version + ".war");
        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    private static String nextFreeName(List<Component> apps) {
        Set<String> taken = apps.stream().map(Component::name).collect(Collectors.toSet());
        for (int n = 1; ; n++) {
            if (!taken.contains("app-" + n)) {
                return "app-" + n;
            }
        }
    }

    private static List<Component> sorted(List<Component> apps) {
        List<Component> out = new ArrayList<>(apps);
        out.sort(Comparator.comparingInt(c -> Integer.parseInt(c.name().substring(4))));
        return out;
    }

    private static String names(List<Component> apps) {
        return apps.stream().map(Component::name).collect(Collectors.joining(", "));
    }

    private void say(PrintWriter progress, String line) {
        supervisor.log(line);
        progress.println(line);
        progress.flush();
    }
}
