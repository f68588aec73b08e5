package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code headers} (nginx's {@code add_header}) over real sockets: on files, 304s and
 * ranges, on redirects and fixed answers, and on the app's answers (replacing its own), but never
 * on errors.
 */
class LocationHeadersTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              public: public
              access-log: off
              upstreams: [127.0.0.1:%d]
              locations:
                - path: /static/
                  root: public
                  headers:
                    X-Frame-Options: DENY
                    Content-Security-Policy: default-src 'self'
                - path: /echo/
                  proxy: app
                  headers:
                    X-Upstream: the location's
                    X-Content-Type-Options: nosniff
                - path: /missing/
                  proxy: app
                  headers:
                    X-Content-Type-Options: nosniff
                - path: = /ok
                  return: 200
                  body: fine
                  headers: {X-Fixed: "yes"}
                - path: = /gone
                  return: 410
                  headers: {X-Fixed: "yes"}
                - path: /old/
                  redirect: /new/
                  status: 301
                  headers: {X-Moved: "yes"}
            """;

    @TempDir
    Path dir;
    private TestUpstream app;
    private WebServer server;

    @BeforeEach
    void start() throws IOException {
        app = new TestUpstream("app-a", 0);
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/a.txt"), "0123456789");
        server = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(app.address().port())).web(),
                TestConfigs.SITE);
    }

    @AfterEach
    void stop() {
        server.close();
        app.close();
    }

    private RawHttp.Response send(String request) throws IOException {
        return RawHttp.exchange(server.port(), request);
    }

    private RawHttp.Response get(String path) throws IOException {
        return send(RawHttp.get(path, TestConfigs.WWW));
    }

    @Test
    void filesCarryTheLocationsHeadersIn200s304sAndRanges() throws IOException {
        RawHttp.Response file = get("/static/a.txt");
        assertThat(file.status()).isEqualTo(200);
        assertThat(file.header("x-frame-options")).isEqualTo("DENY");
        assertThat(file.header("content-security-policy")).isEqualTo("default-src 'self'");
        assertThat(file.header("cache-control")).isEqualTo("public, max-age=3600");

        RawHttp.Response notModified = send("GET /static/a.txt HTTP/1.1\r\nHost: www.foobar.com\r\nIf-None-Match: "
                + file.header("etag") + "\r\n\r\n");
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.header("x-frame-options")).isEqualTo("DENY");

        RawHttp.Response range = send("GET /static/a.txt HTTP/1.1\r\nHost: www.foobar.com\r\nRange: bytes=2-4\r\n\r\n");
        assertThat(range.status()).isEqualTo(206);
        assertThat(range.text()).isEqualTo("234");
        assertThat(range.header("x-frame-options")).isEqualTo("DENY");

        RawHttp.Response missing = get("/static/none.txt");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("x-frame-options")).as("not on errors, as nginx's add_header").isNull();
    }

    @Test
    void theAppsAnswersGetThemReplacingItsOwnButNotItsErrors() throws IOException {
        RawHttp.Response echo = get("/echo/x");
        assertThat(echo.status()).isEqualTo(200);
        assertThat(echo.header("x-upstream")).as("the app's X-Upstream replaced").isEqualTo("the location's");
        assertThat(echo.header("x-content-type-options")).isEqualTo("nosniff");

        RawHttp.Response notFound = get("/missing/x");
        assertThat(notFound.status()).as("the test app has no /missing/").isEqualTo(404);
        assertThat(notFound.header("x-content-type-options")).isNull();
        assertThat(app.requests.get()).isEqualTo(1);
    }

    @Test
    void redirectsAndFixedAnswersGetThemWhenTheirStatusTakesThem() throws IOException {
        RawHttp.Response ok = get("/ok");
        assertThat(ok.text()).isEqualTo("fine");
        assertThat(ok.header("x-fixed")).isEqualTo("yes");
        RawHttp.Response gone = get("/gone");
        assertThat(gone.status()).isEqualTo(410);
        assertThat(gone.header("x-fixed")).isNull();
        RawHttp.Response moved = get("/old/page");
        assertThat(moved.status()).isEqualTo(301);
        assertThat(moved.header("location")).isEqualTo("/new/");
        assertThat(moved.header("x-moved")).isEqualTo("yes");
    }
}
