package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import dev.webstack.dns.ZoneCheck;
import dev.webstack.supervisor.StackState;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private static final long OUTCOME_WAIT_MS = 10_000;

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
        for (StackState.Entry e : state.get().components()) {
            if (!(e.tier().equals("web") || e.tier().equals("dns")) || e.pid() <= 0) {
                continue;
            }
            Path log = stack.logDir().resolve(e.name() + ".log");
            long before = Files.exists(log) ? Files.size(log) : 0;
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(e.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                out.println(e.name() + ": could not signal pid " + e.pid());
                failed++;
                continue;
            }
            String outcome = awaitOutcome(log, before);
            out.println(e.name() + ": " + outcome);
            if (!outcome.contains("reloaded")) {
                failed++;
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    /** The tier's log line saying how the reload went (TierRuntime writes "reloaded" or "reload rejected"). */
    private static String awaitOutcome(Path log, long offset) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + OUTCOME_WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(log) && Files.size(log) > offset) {
                byte[] all = Files.readAllBytes(log);
                String added = new String(all, (int) Math.min(offset, all.length), (int) (all.length - Math.min(offset, all.length)),
                        StandardCharsets.UTF_8);
                for (String line : added.split("\n")) {
                    if (line.contains("reloaded") || line.contains("reload rejected") || line.contains("reload unavailable")) {
                        return line.substring(line.indexOf(" - ") + 3).trim();
                    }
                }
            }
            Thread.sleep(50);
        }
        return "no answer to SIGHUP within " + OUTCOME_WAIT_MS / 1000 + " s (see " + log + ")";
    }
}
