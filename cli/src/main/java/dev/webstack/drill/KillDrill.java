package dev.webstack.drill;

import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.StackState;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Kills an app server with SIGKILL under steady GET and POST load and reports what the users saw:
 * requests sent and failed by cause, latency, the outage window, how long until the supervisor had
 * the server back, and whether every acknowledged POST is in the database afterwards.
 *
 * <p>Phases: {@code warmup} of load, then {@code kill -9}, then load until the supervisor reports
 * the server ready again plus {@code settle}, all bounded by {@code maxDuration}.
 */
public final class KillDrill {

    /** What the drill measured. */
    public record Report(
            String victim,
            int appServers,
            LoadGenerator.Result load,
            double killAtSeconds,
            Optional<Double> firstFailureAfterKill,
            Optional<Double> lastFailureAfterKill,
            Optional<Double> restoredAfterKill,
            long acknowledgedPosts,
            long lostPosts) {

        /** Seconds during which requests failed, from the first failure to the last (0 without failures). */
        public double outageSeconds() {
            return firstFailureAfterKill.isPresent() ? lastFailureAfterKill.get() - firstFailureAfterKill.get() : 0;
        }

        public void print(PrintWriter out, String title) {
            out.printf("drill %s: kill -9 %s (one of %d app server%s) under load%n", title, victim, appServers, appServers == 1 ? "" : "s");
            UnderLoad.printLoad(out, load);
            if (firstFailureAfterKill.isPresent()) {
                out.printf("  outage    requests failed from %.2f s to %.2f s after the kill (%.2f s)%n",
                        firstFailureAfterKill.get(), lastFailureAfterKill.get(), outageSeconds());
            } else {
                out.println("  outage    none: no request failed after the kill");
            }
            out.printf("  restored  %s%n", restoredAfterKill.map(s -> String.format("%s ready again %.2f s after the kill (restarted by the supervisor)", victim, s))
                    .orElse(victim + " was not back before the drill ended"));
            out.printf("  writes    %d POSTs acknowledged, %d of them missing from the database afterwards%n", acknowledgedPosts, lostPosts);
            out.flush();
        }
    }

    private KillDrill() {}

    public static Report run(StackConfig stack, String victim, int clients, int postPercent,
                             Duration warmup, Duration settle, Duration maxDuration) throws Exception {
        StackState state = StackState.readLive(stack.runDir())
                .orElseThrow(() -> new IllegalStateException("the stack is not running: start it with ./webstack up -d"));
        StackState.Entry target = state.component(victim)
                .filter(e -> e.tier().equals("app"))
                .orElseThrow(() -> new IllegalArgumentException("no app server named " + victim));
        if (target.pid() <= 0) {
            throw new IllegalStateException(victim + " is not running (state " + target.state() + ")");
        }
        int appServers = (int) state.components().stream().filter(e -> e.tier().equals("app")).count();
        URI base = URI.create("http://" + stack.web().listen());
        LoadGenerator load = new LoadGenerator(base, stack.site().www(), clients, postPercent, maxDuration);

        UnderLoad.Outcome<Optional<Double>> run = UnderLoad.run(load, warmup, () -> {
            long killAt = System.nanoTime();
            ProcessHandle.of(target.pid()).ifPresent(ProcessHandle::destroyForcibly);
            long deadline = killAt + maxDuration.toNanos();
            while (System.nanoTime() < deadline) {
                Optional<StackState.Entry> now = StackState.readLive(stack.runDir()).flatMap(s -> s.component(victim));
                if (now.isPresent() && now.get().pid() > 0 && now.get().pid() != target.pid() && "ready".equals(now.get().state())) {
                    return Optional.of((System.nanoTime() - killAt) / 1e9);
                }
                Thread.sleep(50);
            }
            return Optional.<Double>empty();
        }, settle);
        LoadGenerator.Result r = run.load();
        Optional<double[]> window = run.failureWindow();
        long lost = countMissing(base, stack.site().www(), r.acknowledgedPostIds());
        return new Report(victim, appServers, r, (run.actionStart() - r.startNanos()) / 1e9,
                window.map(w -> w[0]), window.map(w -> w[1]), run.action(), r.acknowledgedPostIds().size(), lost);
    }

    /** Asks the site for every acknowledged post; a 404 is a lost write. */
    static long countMissing(URI base, String host, List<Long> ids) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long missing = 0;
        for (long id : ids) {
            HttpRequest get = HttpRequest.newBuilder(base.resolve("/api/posts/" + id)).header("Host", host)
                    .timeout(Duration.ofSeconds(10)).GET().build();
            int status = 0;
            for (int attempt = 0; attempt < 3 && status != 200 && status != 404; attempt++) {
                status = http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode();
            }
            if (status != 200) {
                missing++;
            }
        }
        return missing;
    }
}
