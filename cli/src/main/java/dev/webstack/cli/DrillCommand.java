package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import dev.webstack.drill.DeployDrill;
import dev.webstack.drill.KillDrill;
import dev.webstack.drill.ReloadDrill;
import dev.webstack.drill.ScaleDrill;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "drill", mixinStandardHelpOptions = true,
        description = "Break the running stack on purpose under load, and measure what the users see.",
        subcommands = {DrillCommand.SingleServer.class, DrillCommand.KillApp.class, DrillCommand.Deploy.class,
            DrillCommand.Reload.class, DrillCommand.Scale.class})
final class DrillCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Load options every kill drill shares. */
    static final class LoadOptions {
        @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
        int clients;

        @Option(names = "--post-percent", defaultValue = "20", description = "Share of requests that are POSTs (default: ${DEFAULT-VALUE}).")
        int postPercent;

        @Option(names = "--warmup", defaultValue = "3", description = "Seconds of load before the kill (default: ${DEFAULT-VALUE}).")
        int warmupSeconds;

        @Option(names = "--max", defaultValue = "60", description = "Longest the drill runs, in seconds (default: ${DEFAULT-VALUE}).")
        int maxSeconds;
    }

    @Command(name = "single-server", mixinStandardHelpOptions = true,
            description = {
                "The seed's single point of failure, measured: kill -9 the only app server under load,",
                "report the outage users see and how long the supervisor takes to restore service."
            })
    static final class SingleServer implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Mixin
        LoadOptions load;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            StackConfig stack = config.load();
            KillDrill.Report report = KillDrill.run(stack, "app-1", load.clients, load.postPercent,
                    Duration.ofSeconds(load.warmupSeconds), Duration.ofSeconds(2), Duration.ofSeconds(load.maxSeconds));
            PrintWriter out = spec.commandLine().getOut();
            report.print(out, "single-server");
            out.println(report.restoredAfterKill().isPresent()
                    ? "  verdict   service restored; the outage above is the price of one app server"
                    : "  verdict   service NOT restored within the drill");
            out.flush();
            return report.restoredAfterKill().isPresent() && report.lostPosts() == 0 ? 0 : 1;
        }
    }

    @Command(name = "kill-app", mixinStandardHelpOptions = true,
            description = {
                "kill -9 one of two or more app servers under load. Target: 0 failed GETs, no acknowledged POST lost,",
                "failed POSTs at most the number in flight at the kill."
            })
    static final class KillApp implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Mixin
        LoadOptions load;

        @Option(names = "--victim", defaultValue = "app-1", description = "The app server to kill (default: ${DEFAULT-VALUE}).")
        String victim;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            StackConfig stack = config.load();
            long running = dev.webstack.supervisor.StackState.readLive(stack.runDir())
                    .map(s -> s.components().stream().filter(c -> c.tier().equals("app")).count()).orElse(0L);
            if (running < 2) {
                throw new CommandFailedException("kill-app needs two or more app servers running (there "
                        + (running == 1 ? "is 1" : "are " + running) + "; ./webstack scale app=2 adds one); for one, run: ./webstack drill single-server", 2);
            }
            KillDrill.Report report = KillDrill.run(stack, victim, load.clients, load.postPercent,
                    Duration.ofSeconds(load.warmupSeconds), Duration.ofSeconds(2), Duration.ofSeconds(load.maxSeconds));
            PrintWriter out = spec.commandLine().getOut();
            report.print(out, "kill-app");
            boolean pass = report.load().failedGetCount() == 0 && report.lostPosts() == 0
                    && report.load().failedPostCount() <= load.clients;
            out.println("  verdict   " + (pass ? "PASS" : "FAIL") + " (target: 0 failed GETs, 0 lost writes, failed POSTs <= "
                    + load.clients + " in flight)");
            out.flush();
            return pass ? 0 : 1;
        }
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = "Deploy a codebase under load. Target: 0 failed requests, and only the new version answers after the deploy.")
    static final class Deploy implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Mixin
        LoadOptions load;

        @Parameters(paramLabel = "PATH", arity = "0..1", description = "The codebase to deploy (default: app.codebase, rebuilt or not).")
        Path codebase;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            StackConfig stack = config.load();
            DeployDrill.Report report = DeployDrill.run(stack, codebase != null ? codebase : stack.app().codebase(),
                    load.clients, load.postPercent, Duration.ofSeconds(load.warmupSeconds), Duration.ofSeconds(load.maxSeconds));
            report.print(spec.commandLine().getOut());
            return report.pass() ? 0 : 1;
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = "Reload the web and DNS config several times under HTTP and DNS load. Target: 0 failed requests and queries.")
    static final class Reload implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Mixin
        LoadOptions load;

        @Option(names = "--times", defaultValue = "5", description = "How many reloads (default: ${DEFAULT-VALUE}).")
        int times;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ReloadDrill.Report report = ReloadDrill.run(config.load(), times, load.clients,
                    Duration.ofSeconds(load.warmupSeconds), Duration.ofSeconds(load.maxSeconds));
            report.print(spec.commandLine().getOut());
            return report.pass() ? 0 : 1;
        }
    }

    @Command(name = "scale", mixinStandardHelpOptions = true,
            description = "Requests/s of the DB-backed home page at 1, 2, ... N app servers, with CPU use: where this machine's limit is.")
    static final class Scale implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(names = "--up-to", defaultValue = "3", description = "Most app servers to try (default: ${DEFAULT-VALUE}).")
        int upTo;

        @Option(names = "--clients", defaultValue = "32", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
        int clients;

        @Option(names = "--seconds", defaultValue = "8", description = "Load per step, in seconds (default: ${DEFAULT-VALUE}).")
        int seconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            out.println("drill scale: GET / (20 newest posts from MariaDB) through the web tier, " + clients + " clients, " + seconds + " s per step");
            ScaleDrill.run(config.load(), upTo, clients, Duration.ofSeconds(seconds), out);
            return 0;
        }
    }
}
