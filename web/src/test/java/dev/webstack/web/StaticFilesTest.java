package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Static files over real sockets: bytes, validators, ranges and the traversal corpus. */
class StaticFilesTest {
    private static final String SECRET = "TOP-SECRET-6f1d";
    private static final String CSS = "body { color: #333; }\n/* 0123456789 */\n";

    @TempDir
    Path dir;
    private WebServer server;
    private int port;

    @BeforeEach
    void start() throws IOException {
        Path root = Files.createDirectories(dir.resolve("public"));
        Files.createDirectories(root.resolve("static/sub"));
        Files.writeString(root.resolve("static/app.css"), CSS);
        Files.writeString(root.resolve("static/sub/data.json"), "{\"a\":1}");
        Files.writeString(root.resolve("robots.txt"), "User-agent: *\n");
        Files.writeString(root.resolve("not-static.txt"), "only through the app");
        // Outside the root, and inside the root but outside the static paths: neither may be served.
        Files.writeString(dir.resolve("secret"), SECRET);
        Files.writeString(root.resolve("secret"), SECRET);
        Files.writeString(root.resolve("static/secret"), "decoy, not the secret\n");
        Files.createSymbolicLink(root.resolve("static/link"), dir.resolve("secret"));
        Files.createSymbolicLink(root.resolve("static/dirlink"), dir);
        server = WebServer.start(TestConfigs.web(root, dir.resolve("log/access.log"), List.of(), Duration.ofSeconds(1)),
                TestConfigs.SITE);
        port = server.port();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawHttp.Response get(String path, String... headers) throws IOException {
        return RawHttp.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\n"
                + String.join("", headers.length == 0 ? List.of() : List.of(String.join("\r\n", headers) + "\r\n")) + "\r\n");
    }

    @Test
    void servesTheFileWithItsHeaders() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<byte[]> res = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/static/app.css"))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        // java.net.http sets Host from the URI: 127.0.0.1 is not the site.
        assertThat(res.statusCode()).isEqualTo(421);

        RawHttp.Response r = get("/static/app.css");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo(CSS);
        assertThat(r.header("content-type")).isEqualTo("text/css; charset=utf-8");
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(CSS.getBytes(StandardCharsets.UTF_8).length));
        assertThat(r.header("etag")).matches("\"[0-9a-f]+-[0-9a-f]+\"");
        assertThat(r.header("last-modified")).endsWith(" GMT");
        assertThat(r.header("cache-control")).isEqualTo(LocationConfig.DEFAULT_CACHE_CONTROL);
        assertThat(r.header("accept-ranges")).isEqualTo("bytes");

        assertThat(get("/static/sub/data.json").header("content-type")).isEqualTo("application/json; charset=utf-8");
        assertThat(get("/robots.txt").text()).isEqualTo("User-agent: *\n");
    }

    /** A file above what is held in memory goes out with sendfile, corked (TCP_CORK) until it is all written. */
    @Test
    void aLargeFileGoesOutWholeFromTheDisk_andTheNextAnswerOnTheConnectionFollows() throws IOException {
        byte[] bytes = new byte[3 * 1024 * 1024 + 7];
        new java.util.Random(7).nextBytes(bytes);
        Files.write(dir.resolve("public/static/big.bin"), bytes);
        try (RawHttp http = new RawHttp(port)) {
            http.send("GET /static/big.bin HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n"
                    + "GET /static/big.bin HTTP/1.1\r\nHost: www.foobar.com\r\nRange: bytes=1048570-1048579\r\n\r\n"
                    + "GET /static/app.css HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
            RawHttp.Response whole = http.read();
            assertThat(whole.status()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo(bytes);
            RawHttp.Response part = http.read();
            assertThat(part.status()).isEqualTo(206);
            assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(bytes, 1048570, 1048580));
            assertThat(http.read().text()).isEqualTo(CSS);
        }
    }

    @Test
    void everyAnswerCarriesTheDate() throws IOException {
        for (String path : List.of("/static/app.css", "/static/missing.css")) {
            RawHttp.Response r = get(path);
            java.util.Date date = io.netty.handler.codec.DateFormatter.parseHttpDate(r.header("date"));
            assertThat(date).as("Date header of %s: %s", path, r.header("date")).isNotNull();
            assertThat(Math.abs(date.getTime() - System.currentTimeMillis())).isLessThan(5_000);
        }
    }

    @Test
    void conditionalRequestsAnswer304() throws IOException {
        RawHttp.Response first = get("/static/app.css");
        RawHttp.Response byEtag = get("/static/app.css", "If-None-Match: \"x\", " + first.header("etag"));
        assertThat(byEtag.status()).isEqualTo(304);
        assertThat(byEtag.body()).isEmpty();
        assertThat(byEtag.header("etag")).isEqualTo(first.header("etag"));

        assertThat(get("/static/app.css", "If-None-Match: W/" + first.header("etag")).status()).isEqualTo(304);
        assertThat(get("/static/app.css", "If-None-Match: \"other\"").status()).isEqualTo(200);

        assertThat(get("/static/app.css", "If-Modified-Since: " + first.header("last-modified")).status()).isEqualTo(304);
        assertThat(get("/static/app.css", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT").status()).isEqualTo(200);
    }

    @Test
    void ifMatchAndIfUnmodifiedSinceAnswer412() throws IOException {
        RawHttp.Response first = get("/static/app.css");
        String etag = first.header("etag");

        assertThat(get("/static/app.css", "If-Match: \"x\", " + etag).status()).isEqualTo(200);
        assertThat(get("/static/app.css", "If-Match: *").status()).isEqualTo(200);
        assertThat(get("/static/app.css", "If-Match: \"x\", *").status()).as("'*' only stands alone").isEqualTo(412);
        assertThat(get("/static/app.css", "If-None-Match: \"x\", *").status()).as("'*' only stands alone").isEqualTo(200);
        RawHttp.Response failed = get("/static/app.css", "If-Match: \"other\"");
        assertThat(failed.status()).isEqualTo(412);
        assertThat(failed.text()).doesNotContain(CSS);
        assertThat(failed.header("etag")).isEqualTo(etag);
        assertThat(get("/static/app.css", "If-Match: W/" + etag).status()).as("If-Match compares strongly").isEqualTo(412);

        assertThat(get("/static/app.css", "If-Unmodified-Since: " + first.header("last-modified")).status()).isEqualTo(200);
        assertThat(get("/static/app.css", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT").status()).isEqualTo(412);
        assertThat(get("/static/app.css", "If-Unmodified-Since: yesterday").status()).as("a bad date is ignored").isEqualTo(200);
    }

    @Test
    void preconditionsAreEvaluatedInTheOrderOfRfc9110() throws IOException {
        RawHttp.Response first = get("/static/app.css");
        String etag = first.header("etag");
        String epoch = "Thu, 01 Jan 1970 00:00:00 GMT";

        // 1. If-Match decides first: a failing one is 412 even when If-None-Match would say 304.
        assertThat(get("/static/app.css", "If-Match: \"other\"", "If-None-Match: " + etag).status()).isEqualTo(412);
        // 2. With If-Match present, If-Unmodified-Since is not evaluated.
        assertThat(get("/static/app.css", "If-Match: " + etag, "If-Unmodified-Since: " + epoch).status()).isEqualTo(200);
        // 3. Passing If-Match, then If-None-Match matching: 304.
        assertThat(get("/static/app.css", "If-Match: " + etag, "If-None-Match: " + etag).status()).isEqualTo(304);
        // A failing If-Unmodified-Since comes before a matching If-None-Match.
        assertThat(get("/static/app.css", "If-Unmodified-Since: " + epoch, "If-None-Match: " + etag).status()).isEqualTo(412);
        // 4. With If-None-Match present (not matching), If-Modified-Since is not evaluated.
        assertThat(get("/static/app.css", "If-None-Match: \"other\"", "If-Modified-Since: " + first.header("last-modified"))
                .status()).isEqualTo(200);
        // 5. If-Range last: preconditions pass, the range is honoured only when If-Range matches.
        RawHttp.Response part = get("/static/app.css", "If-Match: " + etag, "Range: bytes=0-3", "If-Range: " + etag);
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.text()).isEqualTo(CSS.substring(0, 4));
        assertThat(get("/static/app.css", "Range: bytes=0-3", "If-Range: " + epoch).status()).isEqualTo(200);
        assertThat(get("/static/app.css", "Range: bytes=0-3", "If-Range: " + first.header("last-modified")).status()).isEqualTo(206);
    }

    @Test
    void headSendsHeadersOnly() throws IOException {
        try (RawHttp http = new RawHttp(port)) {
            http.send("HEAD /static/app.css HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
            RawHttp.Response head = http.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo(String.valueOf(CSS.length()));
            // The next response on the connection starts right after the headers: no body was sent.
            http.send(RawHttp.get("/-/health", TestConfigs.WWW));
            RawHttp.Response next = http.read();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.text()).isEqualTo("ok\n");
        }
    }

    @Test
    void rangesAnswer206And416() throws IOException {
        RawHttp.Response part = get("/static/app.css", "Range: bytes=5-9");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.text()).isEqualTo(CSS.substring(5, 10));
        assertThat(part.header("content-range")).isEqualTo("bytes 5-9/" + CSS.length());
        assertThat(part.header("content-length")).isEqualTo("5");

        RawHttp.Response suffix = get("/static/app.css", "Range: bytes=-4");
        assertThat(suffix.status()).isEqualTo(206);
        assertThat(suffix.text()).isEqualTo(CSS.substring(CSS.length() - 4));

        RawHttp.Response open = get("/static/app.css", "Range: bytes=30-");
        assertThat(open.text()).isEqualTo(CSS.substring(30));

        RawHttp.Response none = get("/static/app.css", "Range: bytes=1000-");
        assertThat(none.status()).isEqualTo(416);
        assertThat(none.header("content-range")).isEqualTo("bytes */" + CSS.length());

        RawHttp.Response stale = get("/static/app.css", "Range: bytes=0-1", "If-Range: \"stale\"");
        assertThat(stale.status()).isEqualTo(200);
        assertThat(stale.text()).isEqualTo(CSS);
    }

    @Test
    void missingFilesAre404PagesAndFoldersWithoutIndex403() throws IOException {
        RawHttp.Response missing = get("/static/nope.css");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("content-type")).startsWith("text/html");
        assertThat(get("/static/nope/").status()).as("no such folder").isEqualTo(404);
        RawHttp.Response folder = get("/static/sub/");
        assertThat(folder.status()).as("a folder without an index file: no listing, as nginx").isEqualTo(403);
        assertThat(folder.header("content-type")).startsWith("text/html");
        assertThat(folder.text()).doesNotContain("app.css");
        assertThat(get("/static/").status()).isEqualTo(403);
    }

    @Test
    void aDirectoryWithoutItsSlashIsRedirectedToIt() throws IOException {
        RawHttp.Response sub = get("/static/sub?v=1&w=%20");
        assertThat(sub.status()).isEqualTo(301);
        assertThat(sub.header("location")).as("the raw path and the query as received").isEqualTo("/static/sub/?v=1&w=%20");
        assertThat(get("/static/s%75b").header("location")).as("the path is not re-encoded").isEqualTo("/static/s%75b/");
        RawHttp.Response head = RawHttp.exchange(port, "HEAD /static/sub HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
        assertThat(head.status()).isEqualTo(301);
        assertThat(head.header("location")).isEqualTo("/static/sub/");
        assertThat(head.body()).isEmpty();

        assertThat(get("/static/dirlink").status()).as("a link to a folder outside the root is no folder of the root")
                .isEqualTo(404);
        assertThat(get("/static/app.css").status()).as("a file is still a file").isEqualTo(200);
        RawHttp.Response post = RawHttp.exchange(port,
                "POST /static/sub HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 0\r\n\r\n");
        assertThat(post.status()).as("static folders answer GET and HEAD only").isEqualTo(405);
    }

    @Test
    void onlyGetAndHead() throws IOException {
        RawHttp.Response res = RawHttp.exchange(port,
                "POST /static/app.css HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 0\r\n\r\n");
        assertThat(res.status()).isEqualTo(405);
        assertThat(res.header("allow")).isEqualTo("GET, HEAD");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/static/../secret",
            "/static/../../secret",
            "/static/%2e%2e/secret",
            "/static/%2e%2e/%2e%2e/secret",
            "/static/%2e%2e%2fsecret",
            "/static/%2e%2e%2f%2e%2e%2fsecret",
            "/static/..%2fsecret",
            "/static/..%5csecret",
            "/static/..%5c..%5csecret",
            "/static/%252e%252e/secret",
            "/static/%252e%252e/%252e%252e/secret",
            "/static/secret%00.css",
            "/static/%00/../../secret",
            "/static/%c0%ae%c0%ae/secret",
            "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/secret",
            "/static/%c0%ae%c0%ae%c0%afsecret",
            "/static/link",
            "/static/dirlink/secret",
            "/static/./../secret",
            "/static//../secret",
            "/%73tatic/../secret",
            "/static/%2E%2E/secret",
            "/static/..;/secret",
            "/static/..\\secret",
            "http://www.foobar.com/static/../secret",
    })
    void noPathReadsAFileOutsideTheRoot(String path) throws IOException {
        RawHttp.Response res = get(path);
        assertThat(res.text()).as(path).doesNotContain(SECRET);
        // A path whose dot segments resolve outside /static/ (e.g. to /secret) is the app's, as in
        // nginx; no app listens here: 502.
        assertThat(res.status()).as(path).isIn(400, 403, 404, 502);
    }

    @ParameterizedTest
    @ValueSource(strings = {"//static/app.css", "/static//app.css", "/static/./app.css", "/static/%2e/app.css",
            "/static/sub/../app.css", "/static/sub/%2e%2e/app.css", "/x/../static/app.css"})
    void slashesAndDotSegmentsResolveAsInNginx(String path) throws IOException {
        RawHttp.Response res = get(path);
        assertThat(res.status()).as(path).isEqualTo(200);
        assertThat(res.text()).as(path).isEqualTo(CSS);
    }

    @Test
    void aFolderReachedThroughDotSegmentsRedirectsToItsResolvedPath() throws IOException {
        RawHttp.Response res = get("//static//sub/./?x=1");
        assertThat(res.status()).as("a folder without an index: its listing is not served").isEqualTo(403);
        RawHttp.Response folder = get("//static/x/../sub?x=1");
        assertThat(folder.status()).isEqualTo(301);
        assertThat(folder.header("location")).isEqualTo("/static/sub/?x=1");
        assertThat(get("/static/../..").status()).as("above the root").isEqualTo(400);
    }

    @Test
    void nonStaticPathsAreNotServedFromTheRoot() throws IOException {
        RawHttp.Response res = get("/not-static.txt");
        assertThat(res.status()).isEqualTo(502);
        assertThat(res.text()).doesNotContain("only through the app");
    }
}
