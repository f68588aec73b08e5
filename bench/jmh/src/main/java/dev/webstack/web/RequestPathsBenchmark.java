package dev.webstack.web;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link RequestPaths}, run on every request: the path of the target, its lenient decoding for
 * routing, and the strict decoding into file name segments that a root location does before it
 * opens anything. Targets: a plain static path (the common case, which decodes without
 * allocating), a percent-encoded UTF-8 one with a query, and a long application path with a query.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestPathsBenchmark {
    @Param({"/static/app.css", "/static/caf%C3%A9%20menu.html?lang=fr", "/blog/2026/11/25/a-fairly-long-slug-of-a-post?utm_source=feed&utm_medium=rss"})
    public String uri;

    private String rawPath;

    @Setup
    public void setUp() {
        rawPath = RequestPaths.path(uri).orElseThrow();
    }

    /** What {@link LocationHandler} does with every request: the path, decoded for routing. */
    @Benchmark
    public String routingPath() {
        return RequestPaths.decodeLeniently(RequestPaths.path(uri).orElseThrow());
    }

    /** What a root location does before a file lookup. */
    @Benchmark
    public Optional<List<String>> safeSegments() {
        return RequestPaths.safeSegments(rawPath);
    }
}
