package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import dev.webstack.dns.ZoneCheck;
import dev.webstack.supervisor.ControlClient;
import dev.webstack.supervisor.StackState;
import dev.webstack.supervisor.TierReload;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "reload", mixinStandardHelpOptions = true,
        description = {
            "Check the config and zone files, then have the web and DNS tiers apply them without stopping (SIGHUP).",
            "Like `nginx -t && nginx -s reload`: a config with errors is reported with file, line and reason, and the running one stays."
        })
final class ReloadCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        StackConfig stack = config.load();
        List<ZoneCheck.Problem> problems = ZoneCheck.check(stack.dns());
        problems.forEach(p -> out.println("warning: " + p));
        Optional<StackState> state = StackState.readLive(stack.runDir());
        if (state.isEmpty()) {
            throw new CommandFailedException("the stack is not running; the config is valid", 3);
        }
        int failed = 0;
        for (TierReload.Outcome o : TierReload.reloadWebAndDns(stack, state.get())) {
            out.println(o.component() + ": " + o.detail());
            if (!o.ok()) {
                failed++;
            }
        }
        if (failed == 0) {
            // The supervisor health-checks the web tier where it listens, which a reload may have moved.
            try {
                ControlClient.runAsStep(stack, "/reloaded", out);
            } catch (ControlClient.Unavailable e) {
                out.println("supervisor: not told (" + e.getMessage() + "); it learns a moved web.listen when it restarts the tier");
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
