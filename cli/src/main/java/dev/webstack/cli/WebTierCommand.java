package dev.webstack.cli;

import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import dev.webstack.common.process.TierRuntime;
import dev.webstack.supervisor.StackPlan;
import dev.webstack.web.WebServer;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "web", mixinStandardHelpOptions = true,
        description = "Run the web tier alone in the foreground: static files and the reverse proxy (web section of the config).",
        subcommands = WebTierCommand.Check.class)
final class WebTierCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(WebTierCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    TierOptions tier;

    @Option(names = "--upstream", paramLabel = "HOST:PORT",
            description = "Proxy to this address instead of the configured app servers (repeatable).")
    List<String> upstreams;

    @Option(names = "--print-jvm-options",
            description = "Print the JVM options `webstack up` starts the web tier with (heap and collector) and exit.")
    boolean printJvmOptions;

    @Override
    public Integer call() {
        if (printJvmOptions) {
            System.out.println(String.join(" ", StackPlan.WEB_JVM_OPTIONS));
            return 0;
        }
        StackConfig stack = config.load();
        WebConfig web = resolveUpstreams(stack, upstreams);
        WebServer server = WebServer.start(web, stack.site());
        log.info("web: listening on {} (static: {}, upstreams: {})", web.listen(), web.publicRoot(), web.upstreams());
        // Like nginx -s reload: re-read webstack.yml; a bad file or an address that cannot be bound is
        // refused and the running config stays. Open connections switch between two requests; a
        // moved address (listen, HTTPS, admin) is bound first and the old one closed after.
        TierRuntime.onSighup("web", () -> {
            StackConfig next = config.load();
            server.reload(resolveUpstreams(next, upstreams), next.site());
        });
        // Like nginx -s reopen, for log rotation: the access log file is opened again at its path.
        TierRuntime.onSigusr1("web", server::reopenLogs);
        TierRuntime.runUntilStopped("web", server, tier.supervisor());
        return 0;
    }

    /** The web config with its upstreams filled in: the command line's, else the config's, else the app servers. */
    static WebConfig resolveUpstreams(StackConfig stack, List<String> override) {
        if (override != null && !override.isEmpty()) {
            return stack.web().withUpstreams(override.stream().map(HostPort::parse).toList());
        }
        if (!stack.web().upstreams().isEmpty()) {
            return stack.web();
        }
        return stack.web().withUpstreams(stack.app().instances().stream().map(AppConfig.Instance::address).toList());
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Check the web config as the web tier would load it, without serving it (as nginx -t): locations, "
                    + "htpasswd files, certificates and keys. Exit 0 when it would load.")
    static final class Check implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            StackConfig stack = config.load();
            PrintWriter out = spec.commandLine().getOut();
            try {
                WebServer.check(stack.web(), stack.site()).forEach(line -> out.println("web: " + line));
            } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
                out.flush();
                throw new CommandFailedException("web config " + stack.file() + ": " + e.getMessage(), 1);
            }
            out.println("web: config " + stack.file() + " is ok");
            out.flush();
            return 0;
        }
    }
}
