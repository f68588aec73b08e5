package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code web.locations} over real sockets: every action, try-files, index files, Cache-Control, hosts, reload. */
class LocationRoutingTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              public: public
              access-log: log/access.log
              upstreams: [127.0.0.1:%d]
              mime-types:
                md: text/markdown; charset=utf-8
                css: text/x-test-css
              locations:
                - path: /static/
                  root: public
                  cache-control: public, max-age=31536000, immutable
                  index: [index.htm, index.html]
                - path: = /robots.txt
                  root: public
                - path: = /readme.md
                  root: public
                - path: /echo/
                  root: public
                  try-files: true
                - path: = /echo/proxied
                  proxy: app
                - path: "~ ^/posts/([0-9]+)$"
                  redirect: /p/$1$is_args$args
                  status: 308
                - path: /old/
                  redirect: $scheme://$host$request_uri
                  status: 301
                - path: = /teapot
                  return: %s
                - path: /private/
                  return: 403
                - path: /
                  host: other.example
                  return: 200
                  body: other site
            """;
    private static final String TEAPOT = "418\n      body: short and stout";

    @TempDir
    Path dir;
    private TestUpstream app;
    private WebServer server;
    private int port;

    @BeforeEach
    void start() throws IOException {
        app = new TestUpstream("app-a", 0);
        Path root = Files.createDirectories(dir.resolve("public"));
        Files.createDirectories(root.resolve("static/docs"));
        Files.createDirectories(root.resolve("echo/sub"));
        Files.writeString(root.resolve("static/app.css"), "body{}");
        Files.writeString(root.resolve("static/docs/index.html"), "<h1>docs</h1>");
        Files.writeString(root.resolve("robots.txt"), "User-agent: *\n");
        Files.writeString(root.resolve("readme.md"), "# readme\n");
        Files.writeString(root.resolve("echo/file.txt"), "from disk");
        Files.writeString(root.resolve("echo/proxied"), "from disk, never served");
        server = WebServer.start(config(TEAPOT), TestConfigs.SITE);
        port = server.port();
    }

    @AfterEach
    void stop() {
        server.close();
        app.close();
    }

    private WebConfig config(String teapot) {
        return StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(app.address().port(), teapot)).web();
    }

    private RawHttp.Response get(String path) throws IOException {
        return RawHttp.exchange(port, RawHttp.get(path, TestConfigs.WWW));
    }

    @Test
    void rootLocationsServeFilesWithTheirCacheControlIndexAndMimeTypes() throws IOException {
        RawHttp.Response css = get("/static/app.css");
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.text()).isEqualTo("body{}");
        assertThat(css.header("content-type")).as("web.mime-types overrides the built-in css").isEqualTo("text/x-test-css");
        assertThat(css.header("cache-control")).isEqualTo("public, max-age=31536000, immutable");

        RawHttp.Response robots = get("/robots.txt");
        assertThat(robots.text()).isEqualTo("User-agent: *\n");
        assertThat(robots.header("cache-control")).isEqualTo("public, max-age=3600");
        assertThat(get("/readme.md").header("content-type")).isEqualTo("text/markdown; charset=utf-8");

        RawHttp.Response docs = get("/static/docs/");
        assertThat(docs.status()).as("the first index file there is").isEqualTo(200);
        assertThat(docs.text()).isEqualTo("<h1>docs</h1>");
        assertThat(docs.header("content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(get("/static/").status()).as("no index file in it: its listing is not served, as nginx").isEqualTo(403);
        assertThat(get("/static/nothing-here/").status()).as("no folder at all").isEqualTo(404);
        RawHttp.Response folder = get("/static/docs?lang=en");
        assertThat(folder.status()).as("a folder without its '/', as nginx").isEqualTo(301);
        assertThat(folder.header("location")).isEqualTo("/static/docs/?lang=en");
        assertThat(get(folder.header("location")).text()).as("which its index file then answers").isEqualTo("<h1>docs</h1>");
        assertThat(app.requests.get()).as("nothing reached the app").isZero();
    }

    @Test
    void tryFilesServesTheFileElseReachesTheApp() throws IOException {
        RawHttp.Response file = get("/echo/file.txt");
        assertThat(file.text()).isEqualTo("from disk");
        assertThat(file.header("x-upstream")).isNull();

        RawHttp.Response missing = get("/echo/missing?x=1");
        assertThat(missing.status()).isEqualTo(200);
        assertThat(missing.header("x-upstream")).isEqualTo("app-a");
        assertThat(missing.text()).startsWith("GET /echo/missing?x=1\n");

        assertThat(get("/echo/").text()).as("a folder is no file").startsWith("GET /echo/\n");
        RawHttp.Response folder = get("/echo/sub?x=1");
        assertThat(folder.status()).as("a folder of the root is the root's, try-files or not").isEqualTo(301);
        assertThat(folder.header("location")).isEqualTo("/echo/sub/?x=1");
        assertThat(get("/echo/%2e%2e/secret").text()).as("not a file path").startsWith("GET /echo/%2e%2e/secret\n");
        RawHttp.Response post = RawHttp.exchange(port,
                "POST /echo/file.txt HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(post.text()).as("files answer GET and HEAD; the app the rest").startsWith("POST /echo/file.txt\n");
        assertThat(app.requests.get()).isEqualTo(4);
    }

    @Test
    void proxyLocationsAndUnmatchedPathsReachTheApp() throws IOException {
        RawHttp.Response exact = get("/echo/proxied");
        assertThat(exact.header("x-upstream")).as("= beats the /echo/ prefix").isEqualTo("app-a");
        assertThat(exact.text()).startsWith("GET /echo/proxied\n");
        RawHttp.Response unmatched = get("/slow");
        assertThat(unmatched.status()).isEqualTo(200);
        assertThat(unmatched.text()).isEqualTo("slow");
    }

    @Test
    void redirectsFillInTheirVariables() throws IOException {
        RawHttp.Response post = get("/posts/42?utm=x&y=2");
        assertThat(post.status()).isEqualTo(308);
        assertThat(post.header("location")).isEqualTo("/p/42?utm=x&y=2");
        assertThat(post.header("cache-control")).isEqualTo("no-store");
        assertThat(get("/posts/42").header("location")).isEqualTo("/p/42");
        assertThat(get("/posts/42/").header("location")).as("the regex is anchored: the app's").isNull();

        RawHttp.Response old = RawHttp.exchange(port, "GET /old/a%20b?q=1 HTTP/1.1\r\nHost: WWW.foobar.com:8080\r\n\r\n");
        assertThat(old.status()).isEqualTo(301);
        assertThat(old.header("location")).isEqualTo("http://www.foobar.com/old/a%20b?q=1");
        assertThat(app.requests.get()).isZero();
    }

    @Test
    void returnsAnswerTheirStatusAndBodyToAnyMethod() throws IOException {
        RawHttp.Response teapot = get("/teapot");
        assertThat(teapot.status()).isEqualTo(418);
        assertThat(teapot.text()).isEqualTo("short and stout");
        assertThat(teapot.header("content-type")).isEqualTo("text/plain; charset=utf-8");

        try (RawHttp http = new RawHttp(port)) {
            http.send("HEAD /teapot HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
            RawHttp.Response head = http.read(true);
            assertThat(head.status()).isEqualTo(418);
            assertThat(head.header("content-length")).isEqualTo("15");
            http.send("POST /teapot HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 3\r\n\r\nabc");
            RawHttp.Response post = http.read();
            assertThat(post.status()).as("the same connection: HEAD sent no body").isEqualTo(418);
            assertThat(post.text()).isEqualTo("short and stout");
        }
        RawHttp.Response forbidden = get("/private/keys");
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.header("content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(forbidden.text()).contains("403 Forbidden");
        assertThat(app.requests.get()).isZero();
    }

    @Test
    void aLargeStreamedBodyToAFixedAnswerNeverReachesTheApp() throws IOException {
        String body = "x".repeat(200 * 1024); // above BodyGate's aggregation limit: the body streams
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/echo/first", TestConfigs.WWW)); // a proxied request first: the connection has had an exchange
            assertThat(http.read().header("x-upstream")).isEqualTo("app-a");
            http.send("POST /teapot HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
            RawHttp.Response teapot = http.read();
            assertThat(teapot.status()).isEqualTo(418);
            assertThat(teapot.text()).isEqualTo("short and stout");
            http.send(RawHttp.get("/teapot", TestConfigs.WWW));
            assertThat(http.read().status()).as("the connection goes on after the body").isEqualTo(418);
        }
        assertThat(app.requests.get()).as("only the first request").isEqualTo(1);
    }

    @Test
    void aHostWithLocationsOfItsOwnIsServedWithThem() throws IOException {
        RawHttp.Response other = RawHttp.exchange(port, RawHttp.get("/static/app.css", "other.example"));
        assertThat(other.status()).isEqualTo(200);
        assertThat(other.text()).isEqualTo("other site");
        assertThat(RawHttp.exchange(port, RawHttp.get("/", "unknown.example")).status()).isEqualTo(421);
        assertThat(RawHttp.exchange(port, RawHttp.get("/x", "foobar.com")).header("location"))
                .as("the apex is still redirected").isEqualTo("http://www.foobar.com/x");
    }

    @Test
    void aReloadSwitchesALocationWhileRequestsAreServed() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger answers = new AtomicInteger();
        ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            clients.add(CompletableFuture.runAsync(() -> {
                RawHttp http = null;
                try {
                    http = new RawHttp(port);
                    while (running.get()) {
                        http.send(RawHttp.get("/teapot", TestConfigs.WWW));
                        RawHttp.Response res = http.read();
                        String seen = res.status() + " " + res.text();
                        if (!seen.equals("418 short and stout") && !seen.equals("200 switched")) {
                            unexpected.add(seen);
                        }
                        answers.incrementAndGet();
                        if (res.closes()) { // web.keepalive-requests reached: a new connection, as a browser opens
                            http.close();
                            http = new RawHttp(port);
                        }
                    }
                } catch (IOException e) {
                    unexpected.add(e.toString());
                } finally {
                    ReloadTest.closeQuietly(http);
                }
            }));
        }
        try {
            for (int r = 0; r < 6; r++) {
                Thread.sleep(50);
                server.reload(config(r % 2 == 0 ? "200\n      body: switched" : TEAPOT), TestConfigs.SITE);
            }
            server.reload(config("200\n      body: switched"), TestConfigs.SITE);
        } finally {
            running.set(false);
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        assertThat(unexpected).isEmpty();
        assertThat(answers.get()).isPositive();
        RawHttp.Response after = get("/teapot");
        assertThat(after.status() + " " + after.text()).isEqualTo("200 switched");
        assertThat(get("/static/app.css").text()).as("the other locations stay").isEqualTo("body{}");
    }
}
