package dev.webstack.drill;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs an action against the stack while a {@link LoadGenerator} keeps it busy: {@code warmup} of
 * load, the action, {@code settle} of load, stop. Every drill is this shape.
 */
public final class UnderLoad {

    /** What the load saw, and when the action ran (System.nanoTime). */
    public record Outcome<T>(LoadGenerator.Result load, long actionStart, long actionEnd, T action) {

        /** Seconds from the action's start to the first and the last failed request after it. */
        public Optional<double[]> failureWindow() {
            double first = -1;
            double last = -1;
            for (LoadGenerator.Event e : load.events()) {
                if (!e.ok() && e.atNanos() >= actionStart) {
                    double at = (e.atNanos() - actionStart) / 1e9;
                    if (first < 0) {
                        first = at;
                    }
                    last = at;
                }
            }
            return first < 0 ? Optional.empty() : Optional.of(new double[] {first, last});
        }
    }

    /** The action a drill performs under load. */
    @FunctionalInterface
    public interface Action<T> {
        T run() throws Exception;
    }

    private UnderLoad() {}

    public static <T> Outcome<T> run(LoadGenerator load, Duration warmup, Action<T> action, Duration settle) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<LoadGenerator.Result> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread runner = Thread.ofPlatform().name("drill-load").start(() -> {
            try {
                result.set(load.run(stop::get));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        T value;
        long start;
        long end;
        try {
            Thread.sleep(warmup.toMillis());
            start = System.nanoTime();
            value = action.run();
            end = System.nanoTime();
            Thread.sleep(settle.toMillis());
        } finally {
            stop.set(true);
            runner.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("the load generator failed: " + failure.get(), failure.get());
        }
        return new Outcome<>(result.get(), start, end, value);
    }

    /** The lines every drill report starts with: requests, failures by cause, latency. */
    public static void printLoad(PrintWriter out, LoadGenerator.Result r) {
        out.printf("  requests  %d sent in %.1f s (%.0f/s), %d ok, %d failed%n", r.sent(), r.seconds(), r.sent() / r.seconds(), r.ok(), r.failed());
        out.printf("  GET       %d failed %s%n", r.failedGetCount(), r.failedGets().isEmpty() ? "" : r.failedGets());
        out.printf("  POST      %d failed %s%n", r.failedPostCount(), r.failedPosts().isEmpty() ? "" : r.failedPosts());
        out.printf("  latency   p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                r.latencyMicros().getValueAtPercentile(50) / 1000.0,
                r.latencyMicros().getValueAtPercentile(99) / 1000.0,
                r.latencyMicros().getMaxValue() / 1000.0);
    }
}
