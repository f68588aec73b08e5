package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.StackState;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "down", mixinStandardHelpOptions = true,
        description = "Stop the running stack cleanly: dns, web, app servers, db, each finishing its in-flight work.")
final class DownCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Option(names = "--timeout", defaultValue = "120", description = "Seconds to wait for the stack to stop (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        StackConfig stack = config.load();
        Optional<StackState> state = StackState.readLive(stack.runDir());
        if (state.isEmpty()) {
            out.println("webstack is not running");
            return 0;
        }
        ProcessHandle supervisor = ProcessHandle.of(state.get().supervisorPid()).orElseThrow();
        out.println("stopping the stack (supervisor pid " + supervisor.pid() + ")...");
        out.flush();
        supervisor.destroy();
        try {
            supervisor.onExit().get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new CommandFailedException("the supervisor did not stop within " + timeoutSeconds + " s", 1);
        }
        out.println("stopped");
        return 0;
    }
}
