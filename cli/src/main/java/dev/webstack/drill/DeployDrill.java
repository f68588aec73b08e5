package dev.webstack.drill;

import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.ControlClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Deploys a codebase under load and reports what users saw: failed requests (target 0), and which
 * codebase answered after the deploy (target: only the new one, by the {@code X-Codebase} header).
 */
public final class DeployDrill {

    /** What the drill measured. */
    public record Report(UnderLoad.Outcome<Boolean> outcome, String progress, String newCodebase,
                         Map<String, Long> answeredAfter, long acknowledgedPosts, long lostPosts) {

        public boolean pass() {
            return outcome.action() && outcome.load().failed() == 0 && lostPosts == 0
                    && answeredAfter.keySet().stream().allMatch(c -> c.equals(newCodebase));
        }

        public void print(PrintWriter out) {
            out.println("drill deploy: a rolling deploy of the codebase under load");
            out.print(progress);
            UnderLoad.printLoad(out, outcome.load());
            out.printf("  deploy    %s in %.1f s%n", outcome.action() ? "completed" : "FAILED",
                    (outcome.actionEnd() - outcome.actionStart()) / 1e9);
            out.printf("  after     answers by codebase after the deploy: %s (new: %s)%n", answeredAfter, newCodebase);
            out.printf("  writes    %d POSTs acknowledged, %d missing afterwards%n", acknowledgedPosts, lostPosts);
            out.println("  verdict   " + (pass() ? "PASS" : "FAIL") + " (target: 0 failed requests, only the new version after the deploy)");
            out.flush();
        }
    }

    private DeployDrill() {}

    public static Report run(StackConfig stack, Path codebase, int clients, int postPercent, Duration warmup, Duration maxDuration)
            throws Exception {
        URI base = URI.create("http://" + stack.web().listen());
        LoadGenerator load = new LoadGenerator(base, stack.site().www(), clients, postPercent, maxDuration);
        StringWriter progress = new StringWriter();
        PrintWriter progressOut = new PrintWriter(progress, true);
        String path = "/deploy?codebase=" + URLEncoder.encode(codebase.toAbsolutePath().normalize().toString(), StandardCharsets.UTF_8);
        UnderLoad.Outcome<Boolean> outcome = UnderLoad.run(load, warmup, () -> ControlClient.run(stack, path, progressOut),
                Duration.ofSeconds(3));
        String newCodebase = progress.toString().lines().filter(l -> l.trim().startsWith("deployed "))
                .map(l -> l.trim().split(" ")[1]).findFirst().orElse("?");
        Map<String, Long> after = new TreeMap<>();
        for (LoadGenerator.Event e : outcome.load().events()) {
            if (e.atNanos() > outcome.actionEnd() && e.ok()) {
                after.merge(String.valueOf(e.codebase()), 1L, Long::sum);
            }
        }
        long lost = KillDrill.countMissing(base, stack.site().www(), outcome.load().acknowledgedPostIds());
        return new Report(outcome, progress.toString(), newCodebase, after, outcome.load().acknowledgedPostIds().size(), lost);
    }
}
