package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The in-memory answer of a hot small file: a {@link FileCache} hit and the response built from
 * it as {@link StaticFiles} builds it (over HTTP/1.x a {@link FileResponse} whose headers were
 * encoded with the file; over HTTP/2 the precomputed headers copied; the body a duplicate of the
 * cached direct buffer), and a known miss (a 404 answered from memory). The cache has its shipped
 * revalidation time ({@link FileCache#REVALIDATE_AFTER}), so one lookup a second goes to the disk,
 * as in production. The file is 1 KB of CSS, so it also holds its gzip copy.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FileCacheBenchmark {
    private static final String KEY = "/static/app.css";
    private static final List<String> SEGMENTS = List.of("static", "app.css");
    private static final String MISSING_KEY = "/static/missing.css";
    private static final List<String> MISSING_SEGMENTS = List.of("static", "missing.css");

    private Path root;
    private FileCache cache;

    @Setup
    public void setUp() throws IOException {
        root = Files.createTempDirectory("webstack-jmh-");
        Files.createDirectories(root.resolve("static"));
        Files.writeString(root.resolve("static/app.css"), "body { margin: 0; font: 16px/1.5 system-ui, sans-serif; }\n".repeat(18));
        cache = new FileCache(root, LocationConfig.DEFAULT_CACHE_CONTROL, java.util.Map.of(), MimeTypes.BUILT_IN, FileCache.REVALIDATE_AFTER);
        FileCache.StaticFile file = cache.lookup(KEY, SEGMENTS).orElseThrow();
        if (!file.inMemory() || file.gzipped().isEmpty()) {
            throw new IllegalStateException("expected an in-memory file with its gzip copy: " + file);
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        TempFolders.delete(root);
    }

    /** A hit, and the 200 response StaticFiles writes for it over HTTP/1.x: the file's headers encoded once ({@link FileResponse}). */
    @Benchmark
    public FullHttpResponse hit() {
        FileCache.StaticFile file = cache.lookup(KEY, SEGMENTS).orElseThrow();
        return new FileResponse(file, file.body().duplicate());
    }

    /** A hit, and the 200 response StaticFiles writes for it over HTTP/2 (the file's headers copied into it). */
    @Benchmark
    public FullHttpResponse hitHeadersCopied() {
        FileCache.StaticFile file = cache.lookup(KEY, SEGMENTS).orElseThrow();
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, file.body().duplicate());
        res.headers().set(file.headers());
        return res;
    }

    /** A path known to name no file. */
    @Benchmark
    public Optional<FileCache.StaticFile> miss() {
        return cache.lookup(MISSING_KEY, MISSING_SEGMENTS);
    }
}
