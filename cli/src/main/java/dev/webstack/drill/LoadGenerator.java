package dev.webstack.drill;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Recorder;

/**
 * The drills' load: a fixed number of clients, each sending one request after another over
 * keep-alive connections to the web tier, {@code GET /} and (a share of) {@code POST /api/posts},
 * as a visitor's browser would send them with {@code Host: www.foobar.com}. Bounded twice: it stops
 * when {@code stop} says so or after {@code maxDuration}, whichever comes first. Loopback only: the
 * target is the stack's own web tier.
 *
 * <p>Every response is classified (2xx ok, else failed by status or by I/O error) and timed into an
 * HdrHistogram {@link Recorder}. Each acknowledged POST (201) keeps the id the site returned, so a
 * drill can check afterwards that no acknowledged write was lost.
 */
public final class LoadGenerator {
    static {
        // The Host header is what makes these requests for www.foobar.com.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private final URI base;
    private final String host;
    private final int clients;
    private final int postPercent;
    private final Duration maxDuration;

    /**
     * @param base        the web tier, e.g. {@code http://127.0.0.1:8080}
     * @param host        the Host header, e.g. {@code www.foobar.com}
     * @param clients     concurrent clients (1-256)
     * @param postPercent share of requests that are POSTs (0-100)
     * @param maxDuration the longest the load runs
     */
    public LoadGenerator(URI base, String host, int clients, int postPercent, Duration maxDuration) {
        if (clients < 1 || clients > 256) {
            throw new IllegalArgumentException("clients: " + clients + " (expected: 1-256)");
        }
        if (postPercent < 0 || postPercent > 100) {
            throw new IllegalArgumentException("postPercent: " + postPercent + " (expected: 0-100)");
        }
        this.base = base;
        this.host = host;
        this.clients = clients;
        this.postPercent = postPercent;
        this.maxDuration = maxDuration;
    }

    /**
     * One request's outcome, in the order they completed: for outage windows.
     *
     * @param codebase the {@code X-Codebase} the answering app server named, or null
     */
    public record Event(long atNanos, boolean get, boolean ok, String cause, String codebase) {}

    /** What the load saw. */
    public record Result(
            long startNanos,
            long endNanos,
            long sent,
            long ok,
            Map<String, Long> failedGets,
            Map<String, Long> failedPosts,
            List<Long> acknowledgedPostIds,
            org.HdrHistogram.Histogram latencyMicros,
            List<Event> events) {

        public long failed() {
            return failedGets.values().stream().mapToLong(Long::longValue).sum()
                    + failedPosts.values().stream().mapToLong(Long::longValue).sum();
        }

        public long failedGetCount() {
            return failedGets.values().stream().mapToLong(Long::longValue).sum();
        }

        public long failedPostCount() {
            return failedPosts.values().stream().mapToLong(Long::longValue).sum();
        }

        public double seconds() {
            return (endNanos - startNanos) / 1e9;
        }
    }

    /** Runs the load until {@code stop} returns true (checked between requests) or the time is up. */
    public Result run(BooleanSupplier stop) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        Recorder latency = new Recorder(3);
        LongAdder sent = new LongAdder();
        LongAdder ok = new LongAdder();
        Map<String, LongAdder> failedGets = new ConcurrentHashMap<>();
        Map<String, LongAdder> failedPosts = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
        AtomicLong sequence = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + maxDuration.toNanos();

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                pool.submit(() -> {
                    while (!stop.getAsBoolean() && System.nanoTime() < deadline) {
                        long n = sequence.incrementAndGet();
                        boolean post = (n % 100) < postPercent;
                        HttpRequest request = post ? postRequest(n) : getRequest();
                        long t0 = System.nanoTime();
                        sent.increment();
                        String cause;
                        String codebase = null;
                        try {
                            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                            int status = response.statusCode();
                            codebase = response.headers().firstValue("x-codebase").orElse(null);
                            if (status >= 200 && status < 300) {
                                cause = null;
                                if (post) {
                                    acked.add(idOf(response.body()));
                                }
                            } else {
                                cause = "HTTP " + status;
                            }
                        } catch (HttpTimeoutException e) {
                            cause = "timeout";
                        } catch (IOException e) {
                            cause = "I/O: " + e.getClass().getSimpleName();
                        } catch (InterruptedException e) {
                            return;
                        } catch (RuntimeException e) {
                            // A client-side refusal (e.g. a restricted header) must show in the report, not end the client.
                            cause = "client: " + e.getMessage();
                        }
                        long t1 = System.nanoTime();
                        latency.recordValue(Math.max(1, (t1 - t0) / 1_000));
                        events.add(new Event(t1, !post, cause == null, cause, codebase));
                        if (cause == null) {
                            ok.increment();
                        } else {
                            (post ? failedPosts : failedGets).computeIfAbsent(cause, k -> new LongAdder()).increment();
                        }
                    }
                });
            }
        }
        long end = System.nanoTime();
        List<Event> ordered = new ArrayList<>(events);
        ordered.sort((a, b) -> Long.compare(a.atNanos(), b.atNanos()));
        return new Result(start, end, sent.sum(), ok.sum(), snapshot(failedGets), snapshot(failedPosts),
                List.copyOf(acked), latency.getIntervalHistogram(), ordered);
    }

    private HttpRequest getRequest() {
        return HttpRequest.newBuilder(base.resolve("/")).header("Host", host).timeout(Duration.ofSeconds(10)).GET().build();
    }

    private HttpRequest postRequest(long n) {
        String json = "{\"title\":\"drill post " + n + "\",\"body\":\"Written by a webstack drill.\",\"author\":\"drill\"}";
        return HttpRequest.newBuilder(base.resolve("/api/posts")).header("Host", host)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    /** The {@code "id"} of the site's JSON answer to a POST. */
    static long idOf(String json) {
        int i = json.indexOf("\"id\"");
        if (i < 0) {
            throw new IllegalStateException("no id in the answer to a POST: " + json);
        }
        int start = json.indexOf(':', i) + 1;
        while (start < json.length() && json.charAt(start) == ' ') {
            start++;
        }
        int end = start;
        while (end < json.length() && Character.isDigit(json.charAt(end))) {
            end++;
        }
        return Long.parseLong(json.substring(start, end));
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
        Map<String, Long> out = new java.util.TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
