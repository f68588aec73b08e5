package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
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
            "Have the web tier open its access log file again (SIGUSR1), like `nginx -s reopen`: for log rotation.",
            "Move the file away (logrotate's default), then run this: new lines go to a new file at web.access-log."
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
        List<TierReload.Outcome> outcomes = TierReload.reopenWebLogs(stack, state.get());
        if (outcomes.isEmpty()) {
            throw new CommandFailedException("the web tier is not running", 1);
        }
        outcomes.forEach(o -> out.println(o.component() + ": " + o.detail()));
        out.flush();
        return outcomes.stream().allMatch(TierReload.Outcome::ok) ? 0 : 1;
    }
}
