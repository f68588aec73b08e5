package dev.webstack.cli;

import dev.webstack.app.AppServer;
import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.process.TierRuntime;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "app", mixinStandardHelpOptions = true,
        description = "Run one application server alone in the foreground, hosting the codebase (app section of the config).")
final class AppTierCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(AppTierCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    TierOptions tier;

    @Option(names = "--name", defaultValue = "app-1",
            description = "Which app server of the pool to run: app-1 listens on base-port, app-N on base-port + N - 1 (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--codebase", paramLabel = "PATH",
            description = "Host this codebase (a WAR or an exploded webapp) instead of app.codebase; used by deploys.")
    java.nio.file.Path codebase;

    @Override
    public Integer call() {
        StackConfig stack = config.load();
        AppConfig app = codebase == null ? stack.app() : stack.app().withCodebase(codebase.toAbsolutePath().normalize());
        AppConfig.Instance instance = app.instance(name);
        AppServer server = AppServer.start(app, stack.db(), instance);
        log.info("{}: listening on {} (codebase {})", name, instance.address(), app.codebase());
        TierRuntime.runUntilStopped(name, server, tier.supervisor());
        return 0;
    }
}
