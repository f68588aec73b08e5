package dev.webstack.supervisor;

import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Has the running web and DNS tiers re-read their config (SIGHUP, as nginx and NSD take it) and
 * reads each tier's verdict from its log: {@code reloaded}, or {@code reload rejected} with the
 * reason (see {@code TierRuntime.onSighup}).
 */
public final class TierReload {
    private static final long OUTCOME_WAIT_MS = 10_000;

    /** One tier's outcome. */
    public record Outcome(String component, boolean reloaded, String detail) {}

    private TierReload() {}

    public static List<Outcome> reloadWebAndDns(StackConfig stack, StackState state) throws IOException, InterruptedException {
        List<Outcome> out = new ArrayList<>();
        for (StackState.Entry e : state.components()) {
            if (!(e.tier().equals("web") || e.tier().equals("dns")) || e.pid() <= 0) {
                continue;
            }
            Path log = stack.logDir().resolve(e.name() + ".log");
            long before = Files.exists(log) ? Files.size(log) : 0;
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(e.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                out.add(new Outcome(e.name(), false, "could not signal pid " + e.pid()));
                continue;
            }
            String line = awaitOutcome(log, before);
            // The tier's line names its tier ("web: reloaded ..."), which the outcome says already.
            String detail = line.startsWith(e.tier() + ": ") ? line.substring(e.tier().length() + 2) : line;
            out.add(new Outcome(e.name(), line.contains("reloaded") && !line.contains("rejected"), detail));
        }
        return out;
    }

    /** The tier's log line saying how the reload went, written after {@code offset}. */
    private static String awaitOutcome(Path log, long offset) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + OUTCOME_WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(log) && Files.size(log) > offset) {
                byte[] all = Files.readAllBytes(log);
                int from = (int) Math.min(offset, all.length);
                for (String line : new String(all, from, all.length - from, StandardCharsets.UTF_8).split("\n")) {
                    if (line.contains(": reloaded") || line.contains("reload rejected") || line.contains("reload unavailable")) {
                        return line.substring(line.indexOf(" - ") + 3).trim();
                    }
                }
            }
            Thread.sleep(50);
        }
        return "no answer to SIGHUP within " + OUTCOME_WAIT_MS / 1000 + " s (see " + log + ")";
    }
}
