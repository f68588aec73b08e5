package dev.webstack.cli;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.Component;
import dev.webstack.supervisor.StackPlan;
import dev.webstack.supervisor.StackState;
import dev.webstack.supervisor.Supervisor;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "up", mixinStandardHelpOptions = true,
        description = {
            "Start the whole stack: db, app servers, web, dns, each as its own process, each health-checked before the next.",
            "In the foreground, Ctrl-C or SIGTERM stops them in reverse order, letting in-flight requests finish."
        })
final class UpCommand implements Callable<Integer> {
    private static final long DETACHED_START_TIMEOUT_MS = 300_000;

    @Mixin
    ConfigOption config;

    @Option(names = {"-d", "--detach"}, description = "Return once everything is ready and leave the stack running in the background.")
    boolean detach;

    // Given by -d to the supervisor it starts: the file its output goes to, which reopen opens again.
    @Option(names = "--console-file", hidden = true)
    Path consoleFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        StackConfig stack = config.load();
        Optional<StackState> running = StackState.readLive(stack.runDir());
        if (running.isPresent()) {
            throw new CommandFailedException("the stack is already running (supervisor pid " + running.get().supervisorPid()
                    + "); see ./webstack status, or stop it with ./webstack down", 1);
        }
        List<Component> components = StackPlan.components(stack);
        preflight(stack, components);
        return detach ? startDetached(stack, out) : runForeground(stack, components, out);
    }

    /** Checks what would make a tier fail half-way, before any process starts. */
    static void preflight(StackConfig stack, List<Component> components) {
        List<String> problems = new ArrayList<>();
        if (!Files.exists(stack.app().codebase())) {
            problems.add("the codebase " + stack.app().codebase() + " does not exist (build it: ./mvnw -q -DskipTests package)");
        }
        if (!Files.isDirectory(stack.web().publicRoot())) {
            problems.add("the web tier's public folder " + stack.web().publicRoot() + " does not exist");
        }
        stack.dns().zones().stream().filter(z -> !Files.isReadable(z.file()))
                .forEach(z -> problems.add("zone file " + z.file() + " for " + z.origin() + " cannot be read"));
        if (stack.db().mode() == DbConfig.Mode.EXTERNAL && !Files.isReadable(stack.db().passwordFile())) {
            problems.add("the database password file " + stack.db().passwordFile() + " cannot be read");
        }
        for (Component c : components) {
            try (ServerSocket probe = new ServerSocket()) {
                probe.bind(new InetSocketAddress(c.address().host(), c.address().port()));
            } catch (IOException e) {
                problems.add(c.name() + ": cannot listen on " + c.address() + ": " + e.getMessage()
                        + " (is another server using it?)");
            }
        }
        if (!problems.isEmpty()) {
            throw new CommandFailedException("nothing was started:\n  - " + String.join("\n  - ", problems), 1);
        }
    }

    private int runForeground(StackConfig stack, List<Component> components, PrintWriter out) throws InterruptedException {
        Supervisor supervisor = new Supervisor(stack, components, out, Optional.ofNullable(consoleFile));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("  stopping (reverse order: dns, web, app, db)...");
            out.flush();
            supervisor.close();
            out.println("  stopped");
            out.flush();
            stopped.countDown();
        }, "supervisor-shutdown"));
        long t0 = System.nanoTime();
        try {
            supervisor.start((c, pid, took) -> {
                out.println(ProgressLine.format(c.tier().label(), c.name(), c.address().toString(), "ready",
                        String.format("%4.1fs  pid %-7d (%s)", took.toMillis() / 1000.0, pid, c.summary())));
                out.flush();
            });
        } catch (Supervisor.StartFailedException e) {
            throw new CommandFailedException(e.getMessage(), 1);
        }
        printTryIt(stack, out, (System.nanoTime() - t0) / 1_000_000);
        out.println("  supervising; Ctrl-C stops the stack. Logs: " + stack.logDir());
        out.flush();
        stopped.await();
        return 0;
    }

    private int startDetached(StackConfig stack, PrintWriter out) throws IOException, InterruptedException {
        Files.createDirectories(stack.logDir());
        Path console = stack.logDir().resolve("supervisor.out");
        List<String> cmd = new ArrayList<>();
        // setsid puts the supervisor in its own session, so closing this terminal does not stop the stack.
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Supervisor.runtimeFlags(Runtime.version().feature())); // as ./webstack runs it in the foreground
        cmd.add("-Xmx128m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Webstack.class.getName());
        cmd.add("up");
        cmd.add("--config");
        cmd.add(stack.file().toString());
        cmd.add("--console-file");
        cmd.add(console.toAbsolutePath().toString());
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd)
                .directory(stack.home().toFile())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.to(console.toFile()))
                .redirectInput(Redirect.from(new File("/dev/null")))
                .start();
        long deadline = System.currentTimeMillis() + DETACHED_START_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new CommandFailedException("the stack did not start:\n" + Files.readString(console, StandardCharsets.UTF_8), 1);
            }
            Optional<StackState> state = StackState.readLive(stack.runDir());
            if (state.isPresent() && StackState.READY.equals(state.get().phase())) {
                for (StackState.Entry e : state.get().components()) {
                    out.println(ProgressLine.format(e.tier(), e.name(), e.address(), e.state(),
                            String.format("pid %-7d (%s)", e.pid(), e.summary())));
                }
                printTryIt(stack, out, (System.nanoTime() - t0) / 1_000_000);
                out.println("  running in the background (supervisor pid " + state.get().supervisorPid()
                        + "); ./webstack status, ./webstack down. Logs: " + stack.logDir());
                out.flush();
                return 0;
            }
            Thread.sleep(100);
        }
        p.destroy();
        throw new CommandFailedException("the stack was not ready after " + DETACHED_START_TIMEOUT_MS / 1000 + " s; see " + console, 1);
    }

    /** Resolves the site's name through the stack's own DNS, as a visitor would, and says where to look. */
    private static void printTryIt(StackConfig stack, PrintWriter out, long tookMs) {
        String www = stack.site().www();
        String dns;
        try {
            dns = www + " -> " + new StackDns(stack.dns().listen()).resolve(www).describe();
        } catch (IOException e) {
            dns = www + ": DNS did not answer: " + e.getMessage();
        }
        out.printf("  %s is up in %.1f s  (DNS: %s)%n", www, tookMs / 1000.0, dns);
        out.printf("  try:  ./webstack get http://%s/    dig @%s -p %d %s%n",
                www, stack.dns().listen().host(), stack.dns().listen().port(), www);
    }
}
