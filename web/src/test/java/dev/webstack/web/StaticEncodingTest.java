package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Content codings of static files: precompressed siblings and the cached gzip copy. */
class StaticEncodingTest {
    private static final String CSS = "body { margin: 0; padding: 0; }\n".repeat(100);

    @TempDir
    Path dir;
    private WebServer server;

    @BeforeEach
    void start() throws IOException {
        Path s = Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(s.resolve("app.css"), CSS);
        Files.writeString(s.resolve("pre.js"), "let a = 1;\n".repeat(200));
        Files.writeString(s.resolve("pre.js.br"), "pretend brotli");
        Files.writeString(s.resolve("pre.js.gz"), "pretend gzip");
        Files.write(s.resolve("img.png"), new byte[4096]);
        Files.writeString(s.resolve("big.js"), BIG_JS);
        server = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(),
                Duration.ofSeconds(1)), TestConfigs.SITE);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawHttp.Response get(String path, String acceptEncoding) throws IOException {
        return RawHttp.exchange(server.port(), "GET " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\n"
                + (acceptEncoding == null ? "" : "Accept-Encoding: " + acceptEncoding + "\r\n") + "\r\n");
    }

    // Larger than what the file cache holds in memory: the identity goes out from the disk.
    private static final String BIG_JS = "function f(i) { return i * 2; } // a line of a large script\n"
            .repeat(FileCache.MAX_FILE_BYTES / 40);

    @Test
    void aLargeCompressibleFileIsGzippedToo_andSentWholeFromTheDiskOtherwise() throws IOException {
        RawHttp.Response gz = get("/static/big.js", "gzip");
        assertThat(gz.status()).isEqualTo(200);
        assertThat(gz.header("content-encoding")).isEqualTo("gzip");
        assertThat(gz.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(gz.body().length).isLessThan(BIG_JS.length() / 10);
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz.body()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(BIG_JS);
        }
        RawHttp.Response plain = get("/static/big.js", null);
        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(plain.text()).isEqualTo(BIG_JS);
        assertThat(plain.header("etag")).isNotEqualTo(gz.header("etag"));
    }

    @Test
    void aTextFileTooLargeForAGzipCopyIsCompressedWhileItIsSent() throws IOException {
        // Above FileCache.GZIP_MAX_BYTES: no copy in memory; varied lines so that it does not shrink to nothing.
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() <= FileCache.GZIP_MAX_BYTES + 100_000; i++) {
            text.append("line ").append(i).append(": ").append(Integer.toHexString(i * 31)).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        Files.write(dir.resolve("public/static/huge.txt"), bytes);

        RawHttp.Response gz = get("/static/huge.txt", "gzip");
        assertThat(gz.status()).isEqualTo(200);
        assertThat(gz.header("content-encoding")).isEqualTo("gzip");
        assertThat(gz.header("transfer-encoding")).isEqualToIgnoringCase("chunked");
        assertThat(gz.header("content-length")).isNull();
        assertThat(gz.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(gz.header("etag")).startsWith("W/\"");
        assertThat(gz.body().length).isLessThan(bytes.length / 2);
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }

        RawHttp.Response plain = get("/static/huge.txt", null);
        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.header("content-length")).isEqualTo(String.valueOf(bytes.length));
        assertThat(plain.body()).isEqualTo(bytes);
        // A range is served from the identity, compressed or not (as nginx).
        RawHttp.Response range = RawHttp.exchange(server.port(), "GET /static/huge.txt HTTP/1.1\r\nHost: www.foobar.com\r\n"
                + "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n\r\n");
        assertThat(range.status()).isEqualTo(206);
        assertThat(range.header("content-encoding")).isNull();
        assertThat(range.body()).isEqualTo(java.util.Arrays.copyOf(bytes, 10));
        RawHttp.Response head = RawHttp.exchange(server.port(), "HEAD /static/huge.txt HTTP/1.1\r\nHost: www.foobar.com\r\n"
                + "Accept-Encoding: gzip\r\n\r\n");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("content-encoding")).isEqualTo("gzip");
        assertThat(head.body()).isEmpty();
        // The weak validator of the compressed answer revalidates it.
        RawHttp.Response again = RawHttp.exchange(server.port(), "GET /static/huge.txt HTTP/1.1\r\nHost: www.foobar.com\r\n"
                + "Accept-Encoding: gzip\r\nIf-None-Match: " + gz.header("etag") + "\r\n\r\n");
        assertThat(again.status()).isEqualTo(304);
    }

    @Test
    void aCompressibleFileIsGzippedForClientsThatAcceptIt() throws IOException {
        RawHttp.Response res = get("/static/app.css", "gzip, deflate");
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.header("content-encoding")).isEqualTo("gzip");
        assertThat(res.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(res.body().length).isLessThan(CSS.length());
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(res.body()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(CSS);
        }
        RawHttp.Response plain = get("/static/app.css", null);
        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.text()).isEqualTo(CSS);
        assertThat(plain.header("vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(plain.header("etag")).isNotEqualTo(res.header("etag"));
    }

    @Test
    void gzipWithQZeroIsNotAccepted() throws IOException {
        assertThat(get("/static/app.css", "gzip;q=0, identity").header("content-encoding")).isNull();
    }

    @Test
    void precompressedSiblingsArePreferredBrotliFirst() throws IOException {
        RawHttp.Response br = get("/static/pre.js", "gzip, br");
        assertThat(br.header("content-encoding")).isEqualTo("br");
        assertThat(br.text()).isEqualTo("pretend brotli");
        assertThat(br.header("content-type")).startsWith("text/javascript");
        RawHttp.Response gz = get("/static/pre.js", "gzip");
        assertThat(gz.header("content-encoding")).isEqualTo("gzip");
        assertThat(gz.text()).isEqualTo("pretend gzip");
    }

    @Test
    void aSiblingRewrittenOrRemovedIsServedAsTheDiskSaysOnceChecked() throws Exception {
        Path br = dir.resolve("public/static/pre.js.br");
        for (int i = 0; i < 3; i++) { // the answer is kept between requests: it must be the same each time
            RawHttp.Response res = get("/static/pre.js", "br");
            assertThat(res.text()).isEqualTo("pretend brotli");
            assertThat(res.header("content-length")).isEqualTo("14");
            assertThat(res.header("content-encoding")).isEqualTo("br");
        }
        Files.writeString(br, "other brotli bytes");
        Files.setLastModifiedTime(br, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        await(() -> get("/static/pre.js", "br").text().equals("other brotli bytes"));
        RawHttp.Response changed = get("/static/pre.js", "br");
        assertThat(changed.header("content-length")).isEqualTo("18");
        assertThat(changed.header("etag")).isNotNull();

        Files.delete(br);
        await(() -> "gzip".equals(get("/static/pre.js", "br, gzip").header("content-encoding")));
        assertThat(get("/static/pre.js", "br").header("content-encoding")).isNull();
    }

    /** Until {@code check} holds, within the file cache's revalidation time and some. */
    private static void await(java.util.concurrent.Callable<Boolean> check) throws Exception {
        long deadline = System.nanoTime() + FileCache.REVALIDATE_AFTER.toNanos() + 3_000_000_000L;
        while (!check.call()) {
            assertThat(System.nanoTime()).as("the disk's change seen in time").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    void binaryTypesAreSentAsTheyAre() throws IOException {
        RawHttp.Response res = get("/static/img.png", "gzip, br");
        assertThat(res.header("content-encoding")).isNull();
        assertThat(res.body()).hasSize(4096);
    }

    @Test
    void acceptEncodingParsing() {
        assertThat(StaticFiles.accepts("gzip, br", "br")).isTrue();
        assertThat(StaticFiles.accepts("GZIP;q=0.5", "gzip")).isTrue();
        assertThat(StaticFiles.accepts("gzip;q=0", "gzip")).isFalse();
        assertThat(StaticFiles.accepts("gzip;q=0.000", "gzip")).isFalse();
        assertThat(StaticFiles.accepts("*", "br")).isTrue();
        assertThat(StaticFiles.accepts("identity", "gzip")).isFalse();
    }
}
