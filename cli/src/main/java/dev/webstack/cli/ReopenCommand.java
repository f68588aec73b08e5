package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
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

@Command(name = "reopen", mixinStandardHelpOptions = true,
        description = {
            "Open the log files again, like `nginx -s reopen`: for log rotation. Move the files away",
            "(logrotate's default), then run this: the components' logs (var/log/NAME.log, written by the",
            "supervisor) and the web tier's access log (web.access-log, SIGUSR1 to the web tier) start anew."
        })
final class ReopenCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        StackConfig stack = config.load();
        Optional<StackState> state = StackState.readLive(stack.runDir());
        if (state.isEmpty()) {
            throw new CommandFailedException("the stack is not running", 3);
        }
        boolean ok;
        try {
            ok = ControlClient.runAsStep(stack, "/reopen", out);
        } catch (ControlClient.Unavailable e) {
            out.println("supervisor: " + e.getMessage());
            ok = false;
        }
        List<TierReload.Outcome> outcomes = TierReload.reopenWebLogs(stack, state.get());
        if (outcomes.isEmpty()) {
            out.println("web: not running");
            ok = false;
        }
        outcomes.forEach(o -> out.println(o.component() + ": " + o.detail()));
        out.flush();
        return ok && outcomes.stream().allMatch(TierReload.Outcome::ok) ? 0 : 1;
    }
}
