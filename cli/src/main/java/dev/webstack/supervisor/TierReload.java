package dev.webstack.supervisor;

import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Has the running web and DNS tiers re-read their config (SIGHUP, as nginx and NSD take it) and
 * reads each tier's verdict from its log: {@code reloaded}, or {@code reload rejected} with the
 * reason (see {@code TierRuntime.onSighup}); and has the web tier reopen its access log (SIGUSR1,
 * {@code TierRuntime.onSigusr1}).
 */
public final class TierReload {
    private static final long OUTCOME_WAIT_MS = 10_000;

    /** One tier's outcome: whether it did as the signal asked, and its log line saying so. */
    public record Outcome(String component, boolean ok, String detail) {}

    private TierReload() {}

    public static List<Outcome> reloadWebAndDns(StackConfig stack, StackState state) throws IOException, InterruptedException {
        return signal(stack, state, Set.of("web", "dns"), "HUP", ": reloaded", List.of("reload rejected", "reload unavailable"));
    }

    /**
     * Has the running web tier open its access log again (SIGUSR1, as nginx's {@code -s reopen}),
     * for log rotation; its verdict is {@code reopened the logs} or {@code reopen failed}.
     */
    public static List<Outcome> reopenWebLogs(StackConfig stack, StackState state) throws IOException, InterruptedException {
        return signal(stack, state, Set.of("web"), "USR1", ": reopened the logs", List.of("reopen failed", "cannot handle SIGUSR1"));
    }

    /**
     * Sends {@code SIG<signal>} to each running component of {@code tiers} and reads its verdict from
     * its log: the line with {@code done} (success) or one of {@code failed}.
     */
    private static List<Outcome> signal(StackConfig stack, StackState state, Set<String> tiers, String signal, String done,
                                        List<String> failed) throws IOException, InterruptedException {
        List<Outcome> out = new ArrayList<>();
        for (StackState.Entry e : state.components()) {
            if (!tiers.contains(e.tier()) || e.pid() <= 0) {
                continue;
            }
            Path log = stack.logDir().resolve(e.name() + ".log");
            long before = Files.exists(log) ? Files.size(log) : 0;
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(e.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                out.add(new Outcome(e.name(), false, "could not signal pid " + e.pid()));
                continue;
            }
            String line = awaitOutcome(log, before, signal, done, failed);
            // The tier's line names its tier ("web: reloaded ..."), which the outcome says already.
            String detail = line.startsWith(e.tier() + ": ") ? line.substring(e.tier().length() + 2) : line;
            out.add(new Outcome(e.name(), line.contains(done) && failed.stream().noneMatch(line::contains), detail));
        }
        return out;
    }

    /** The tier's log line saying how it took the signal, written after {@code offset}. */
    private static String awaitOutcome(Path log, long offset, String signal, String done, List<String> failed)
            throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + OUTCOME_WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(log) && Files.size(log) > offset) {
                byte[] all = Files.readAllBytes(log);
                int from = (int) Math.min(offset, all.length);
                for (String line : new String(all, from, all.length - from, StandardCharsets.UTF_8).split("\n")) {
                    if (line.contains(done) || failed.stream().anyMatch(line::contains)) {
                        return line.substring(line.indexOf(" - ") + 3).trim();
                    }
                }
            }
            Thread.sleep(50);
        }
        return "no answer to SIG" + signal + " within " + OUTCOME_WAIT_MS / 1000 + " s (see " + log + ")";
    }
}
