package dev.webstack.drill;

import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.ControlClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests/s of the DB-backed home page at 1, 2, ... N app servers, with the machine's CPU use at
 * each step (from /proc/stat), so a user sees where this machine's limit is. Scales back to where
 * it started at the end.
 */
public final class ScaleDrill {

    /** One step of the drill. */
    public record Step(int appServers, LoadGenerator.Result load, double cpuBusyPercent) {}

    private ScaleDrill() {}

    public static List<Step> run(StackConfig stack, int upTo, int clients, Duration each, PrintWriter out) throws Exception {
        int start = (int) dev.webstack.supervisor.StackState.readLive(stack.runDir())
                .orElseThrow(() -> new IllegalStateException("the stack is not running: start it with ./webstack up -d"))
                .components().stream().filter(c -> c.tier().equals("app")).count();
        URI base = URI.create("http://" + stack.web().listen());
        List<Step> steps = new ArrayList<>();
        try {
            for (int n = 1; n <= upTo; n++) {
                scale(stack, n);
                LoadGenerator load = new LoadGenerator(base, stack.site().www(), clients, 0, each);
                new LoadGenerator(base, stack.site().www(), clients, 0, Duration.ofSeconds(2)).run(() -> false); // warm-up
                long[] before = cpu();
                LoadGenerator.Result r = load.run(() -> false);
                long[] after = cpu();
                double busy = after[1] - before[1] == 0 ? 0 : 100.0 * (after[0] - before[0]) / (after[1] - before[1]);
                steps.add(new Step(n, r, busy));
                out.printf("  app=%d  %7.0f req/s  p50 %5.1f ms  p99 %6.1f ms  failed %d  CPU %3.0f%%%n", n, r.ok() / r.seconds(),
                        r.latencyMicros().getValueAtPercentile(50) / 1000.0, r.latencyMicros().getValueAtPercentile(99) / 1000.0,
                        r.failed(), busy);
                out.flush();
            }
        } finally {
            scale(stack, start);
        }
        return steps;
    }

    private static void scale(StackConfig stack, int n) throws Exception {
        StringWriter progress = new StringWriter();
        if (!ControlClient.run(stack, "/scale?app=" + n, new PrintWriter(progress))) {
            throw new IllegalStateException("scale app=" + n + " failed:\n" + progress);
        }
    }

    /** {busy, total} jiffies of all CPUs, from /proc/stat. */
    private static long[] cpu() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length; i++) {
            total += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
        return new long[] {total - idle, total};
    }
}
