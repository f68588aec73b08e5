package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.ControlClient;
import dev.webstack.supervisor.StackPlan;
import dev.webstack.supervisor.WebAdminClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The commands that change the running stack: scale, deploy, and the web tier's upstream pool. */
final class OperationCommands {

    private OperationCommands() {}

    /** Runs an operation in the supervisor, printing its progress as it streams; exit 0 on OK. */
    static int runInSupervisor(StackConfig stack, String pathAndQuery, PrintWriter out) throws IOException, InterruptedException {
        try {
            return ControlClient.run(stack, pathAndQuery, out) ? 0 : 1;
        } catch (ControlClient.Unavailable e) {
            throw new CommandFailedException(e.getMessage(), e.exitCode());
        }
    }

    static WebAdminClient webAdmin(StackConfig stack) {
        return new WebAdminClient(StackPlan.webAdmin(stack));
    }

    @Command(name = "scale", mixinStandardHelpOptions = true,
            description = "Add or remove app servers while serving: new ones take requests once ready, removed ones are drained first.")
    static final class Scale implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(paramLabel = "app=N", description = "How many app servers to run, e.g. app=3.")
        String spec;

        @Spec
        CommandSpec cmd;

        @Override
        public Integer call() throws Exception {
            if (!spec.matches("app=\\d{1,2}")) {
                throw new CommandFailedException("'" + spec + "' (expected: app=N, e.g. app=3)", 2);
            }
            return runInSupervisor(config.load(), "/scale?app=" + spec.substring(4), cmd.commandLine().getOut());
        }
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = {
                "Deploy a new build of the codebase with no downtime: rolling across the app servers (drain, switch,",
                "readiness gate, re-enable), or beside the old one when there is a single app server. A version that",
                "does not become ready is rolled back and the old one keeps serving."
            })
    static final class Deploy implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(paramLabel = "PATH", description = "The new codebase: a .war or an exploded webapp folder, e.g. site/target/foobar-site.war.")
        Path codebase;

        @Spec
        CommandSpec cmd;

        @Override
        public Integer call() throws Exception {
            String path = codebase.toAbsolutePath().normalize().toString();
            return runInSupervisor(config.load(), "/deploy?codebase=" + URLEncoder.encode(path, StandardCharsets.UTF_8),
                    cmd.commandLine().getOut());
        }
    }

    @Command(name = "servers", mixinStandardHelpOptions = true,
            description = "List the web tier's upstream pool: each app server's state, weight, requests in flight and health.")
    static final class Servers implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Spec
        CommandSpec cmd;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = cmd.commandLine().getOut();
            out.println(String.format("  %-8s %-16s %-10s %-7s %-8s %-9s %-9s %s",
                    "NAME", "ADDRESS", "STATE", "WEIGHT", "HEALTH", "INFLIGHT", "REQUESTS", "FAILURES"));
            for (WebAdminClient.Member m : webAdmin(config.load()).members()) {
                out.println(String.format("  %-8s %-16s %-10s %-7d %-8s %-9d %-9d %d", m.name(), m.address(), m.state(),
                        m.weight(), m.healthy() ? "healthy" : "DOWN", m.inflight(), m.requests(), m.failures()));
            }
            out.flush();
            return 0;
        }
    }

    /** drain, enable, disable: one member of the pool. */
    abstract static class MemberCommand implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(paramLabel = "NAME", description = "The app server, e.g. app-2.")
        String name;

        @Spec
        CommandSpec cmd;
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Stop sending new requests to an app server and wait until its in-flight requests are done.")
    static final class Drain extends MemberCommand {
        @Option(names = "--timeout", defaultValue = "30", description = "Seconds to wait for in-flight requests (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            WebAdminClient web = webAdmin(config.load());
            web.drain(name);
            boolean idle = web.awaitIdle(name, Duration.ofSeconds(timeoutSeconds));
            cmd.commandLine().getOut().println(idle ? name + ": drained, no request in flight"
                    : name + ": draining, requests still in flight after " + timeoutSeconds + " s");
            return idle ? 0 : 1;
        }
    }

    @Command(name = "enable", mixinStandardHelpOptions = true, description = "Send requests to an app server again (once its health check passes).")
    static final class Enable extends MemberCommand {
        @Override
        public Integer call() throws Exception {
            WebAdminClient.Member m = webAdmin(config.load()).enable(name);
            cmd.commandLine().getOut().println(name + ": " + m.state());
            return 0;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = "Send no new requests to an app server (in-flight ones finish).")
    static final class Disable extends MemberCommand {
        @Override
        public Integer call() throws Exception {
            WebAdminClient.Member m = webAdmin(config.load()).disable(name);
            cmd.commandLine().getOut().println(name + ": " + m.state());
            return 0;
        }
    }
}
