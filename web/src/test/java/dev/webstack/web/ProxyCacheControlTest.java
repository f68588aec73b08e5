package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A proxy location's {@code cache-control}: added to the app's cacheable answers that have none, and to nothing else. */
class ProxyCacheControlTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              public: public
              access-log: log/access.log
              upstreams: [127.0.0.1:%d]
              locations:
                - path: /api/
                  proxy: app
                  cache-control: private, max-age=60
                - path: /files/
                  root: public
                  try-files: true
                  cache-control: public, max-age=3600
                - path: /
                  proxy: app
            """;

    @TempDir
    Path dir;
    private HttpServer app;
    private WebServer server;
    private int port;

    /**
     * The app: {@code /...own} answers with its own Cache-Control, {@code /...status/N} answers N,
     * {@code /...redirect} 302, anything else 200 without Cache-Control.
     */
    @BeforeEach
    void start() throws IOException {
        app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        app.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            int status = 200;
            if (path.endsWith("/own")) {
                ex.getResponseHeaders().set("Cache-Control", "no-store");
            } else if (path.contains("/status/")) {
                status = Integer.parseInt(path.substring(path.lastIndexOf('/') + 1));
            } else if (path.endsWith("/redirect")) {
                status = 302;
                ex.getResponseHeaders().set("Location", "/elsewhere");
            }
            byte[] body = ("app " + path).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, status == 204 || status == 304 ? -1 : body.length);
            try (OutputStream out = ex.getResponseBody()) {
                if (status != 204 && status != 304) {
                    out.write(body);
                }
            }
        });
        app.start();
        Files.createDirectories(dir.resolve("public/files"));
        Files.writeString(dir.resolve("public/files/a.txt"), "a file");
        server = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"),
                CONFIG.formatted(app.getAddress().getPort())).web(), TestConfigs.SITE);
        port = server.port();
    }

    @AfterEach
    void stop() {
        server.close();
        app.stop(0);
    }

    private RawHttp.Response get(String path) throws IOException {
        return RawHttp.exchange(port, RawHttp.get(path, TestConfigs.WWW));
    }

    @Test
    void theLocationsCacheControlIsAddedToTheAppsAnswersWithout() throws IOException {
        RawHttp.Response ok = get("/api/items?page=2");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.text()).isEqualTo("app /api/items");
        assertThat(ok.header("cache-control")).isEqualTo("private, max-age=60");
        assertThat(get("/api/status/204").header("cache-control")).isEqualTo("private, max-age=60");
        RawHttp.Response redirect = get("/api/redirect");
        assertThat(redirect.status()).isEqualTo(302);
        assertThat(redirect.header("cache-control")).isEqualTo("private, max-age=60");
    }

    @Test
    void theAppsOwnCacheControlAndItsErrorsAreLeftAlone() throws IOException {
        assertThat(get("/api/own").header("cache-control")).as("the app's own").isEqualTo("no-store");
        RawHttp.Response missing = get("/api/status/404");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("cache-control")).as("an error is never made cacheable").isNull();
        RawHttp.Response failed = get("/api/status/500");
        assertThat(failed.status()).isEqualTo(500);
        assertThat(failed.header("cache-control")).isNull();
    }

    @Test
    void otherLocationsAnswersKeepTheirs() throws IOException {
        assertThat(get("/other").header("cache-control")).as("a proxy location without cache-control").isNull();
        assertThat(get("/files/a.txt").header("cache-control")).as("a file").isEqualTo("public, max-age=3600");
        RawHttp.Response fallback = get("/files/none");
        assertThat(fallback.text()).as("try-files: the app's").isEqualTo("app /files/none");
        assertThat(fallback.header("cache-control")).as("the files' Cache-Control is not the app's").isNull();
    }

    @Test
    void eachRequestOnAKeptAliveConnectionGetsItsOwnLocations() throws IOException {
        List<String> answers = new ArrayList<>();
        try (RawHttp http = new RawHttp(port)) {
            http.send(RawHttp.get("/api/status/500", TestConfigs.WWW) + RawHttp.get("/other", TestConfigs.WWW)
                    + RawHttp.get("/api/x", TestConfigs.WWW) + RawHttp.get("/other", TestConfigs.WWW));
            for (int i = 0; i < 4; i++) {
                RawHttp.Response res = http.read();
                answers.add(res.status() + " " + res.text() + " cache-control=" + res.header("cache-control"));
            }
        }
        assertThat(answers).as("nothing left over from the request before").containsExactly(
                "500 app /api/status/500 cache-control=null",
                "200 app /other cache-control=null",
                "200 app /api/x cache-control=private, max-age=60",
                "200 app /other cache-control=null");
    }
}
