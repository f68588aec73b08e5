package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code web.error-pages} over real sockets: the site's own page for the errors the web tier
 * answers (a missing file, a refused client, no app server), with the status and headers kept,
 * never for the app's own error answers; a reload changes them.
 */
class ErrorPagesTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              public: public
              access-log: off
              upstreams: [127.0.0.1:%d]
              health-check: {interval: 0s}
              read-timeout: 2s
              error-pages:
                404: /errors/404.html
                502: /errors/50x.html
                %s
              locations:
                - path: /static/
                  root: public
                - path: = /closed
                  return: 403
                - path: /app/
                  proxy: app
                - path: /down/
                  proxy: app
                  limit-requests: 1/m
            """;

    @TempDir
    Path dir;
    private TestUpstream app;
    private WebServer server;
    private int deadPort;

    @BeforeEach
    void start() throws IOException {
        app = new TestUpstream("app-a", 0);
        Files.createDirectories(dir.resolve("public/static"));
        Files.createDirectories(dir.resolve("public/errors"));
        Files.writeString(dir.resolve("public/errors/404.html"), "<h1>Not here, sorry</h1>\n");
        Files.writeString(dir.resolve("public/errors/50x.html"), "<h1>Back soon</h1>\n");
        Files.writeString(dir.resolve("public/errors/403.txt"), "keep out\n");
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        server = WebServer.start(config(app.address().port(), ""), TestConfigs.SITE);
    }

    @AfterEach
    void stop() {
        server.close();
        app.close();
    }

    private WebConfig config(int upstreamPort, String morePages) {
        return StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(upstreamPort, morePages)).web();
    }

    private RawHttp.Response get(String path) throws IOException {
        return RawHttp.exchange(server.port(), RawHttp.get(path, TestConfigs.WWW));
    }

    @Test
    void theSitesPageAnswersTheWebTiersOwnErrorsWithTheirStatus() throws IOException {
        RawHttp.Response missing = get("/static/nope.css");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.text()).isEqualTo("<h1>Not here, sorry</h1>\n");
        assertThat(missing.header("content-type")).isEqualTo("text/html; charset=utf-8");
        assertThat(missing.header("cache-control")).isEqualTo("no-store");

        try (RawHttp http = new RawHttp(server.port())) {
            http.send("HEAD /static/nope.css HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
            RawHttp.Response head = http.read(true);
            assertThat(head.status()).isEqualTo(404);
            assertThat(head.header("content-length")).isEqualTo("25");
            http.send(RawHttp.get("/static/nope.js", TestConfigs.WWW));
            assertThat(http.read().text()).as("HEAD sent no body: the connection goes on").isEqualTo("<h1>Not here, sorry</h1>\n");
        }

        RawHttp.Response closed = get("/closed");
        assertThat(closed.status()).isEqualTo(403);
        assertThat(closed.text()).as("no page for 403: the web tier's own").contains("403 Forbidden");

        RawHttp.Response appsOwn = get("/app/none");
        assertThat(appsOwn.status()).as("the test app has no /app/").isEqualTo(404);
        assertThat(appsOwn.text()).as("the app's answer passes as it is").doesNotContain("Not here, sorry");
    }

    @Test
    void noAppServerGetsTheMaintenancePageAndAReloadAddsOne() throws Exception {
        server.reload(config(deadPort, "429: /errors/50x.html"), TestConfigs.SITE);
        RawHttp.Response down = get("/app/x");
        assertThat(down.status()).isEqualTo(502);
        assertThat(down.text()).isEqualTo("<h1>Back soon</h1>\n");

        assertThat(get("/down/1").status()).isEqualTo(502);
        RawHttp.Response limited = get("/down/2");
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.header("retry-after")).as("the web tier's headers stay").isNotNull();
        assertThat(limited.text()).isEqualTo("<h1>Back soon</h1>\n");

        Files.writeString(dir.resolve("public/errors/50x.html"), "<h1>Back very soon</h1>\n");
        Thread.sleep(1_100); // the page is looked at again after a second
        assertThat(get("/app/y").text()).isEqualTo("<h1>Back very soon</h1>\n");
    }

    @Test
    void overHttp2TheStreamGetsTheSitesPageToo() throws Exception {
        server.close();
        WebConfig.Tls tls = new WebConfig.Tls(new dev.webstack.common.config.HostPort("127.0.0.1", 0), dir.resolve("var/tls/web.crt"),
                dir.resolve("var/tls/web.key"), true);
        dev.webstack.common.config.SiteConfig localhost = new dev.webstack.common.config.SiteConfig("localdomain", "localhost");
        server = WebServer.start(config(app.address().port(), "").withTls(java.util.Optional.of(tls)), localhost);
        try (java.net.http.HttpClient h2 = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2)
                .sslContext(TrustingContext.of(tls.certificate())).build()) {
            java.net.http.HttpResponse<String> missing = h2.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("https://localhost:" + server.tlsPort() + "/static/nope.css")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(missing.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).isEqualTo("<h1>Not here, sorry</h1>\n");
            assertThat(missing.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        }
    }
}
