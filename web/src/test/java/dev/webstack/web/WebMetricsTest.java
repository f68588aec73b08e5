package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} on the admin API: Prometheus's text format, with what the tier answered. */
class WebMetricsTest {
    @TempDir
    Path dir;

    @Test
    void countsConnectionsRequestsByStatusClassAndEachAppServersRequests() throws Exception {
        Path root = Files.createDirectories(dir.resolve("public"));
        try (TestUpstream app = new TestUpstream("app-a", 0);
             WebServer server = WebServer.start(TestConfigs.web(root, dir.resolve("log/access.log"), List.of(app.address()), Duration.ofSeconds(5)),
                     TestConfigs.SITE, WebConfig.Limits.DEFAULTS, BalancerSettings.defaults())) {
            int port = server.port();
            Files.createDirectories(root.resolve("static"));
            Files.writeString(root.resolve("static/a.txt"), "hello");
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = RawHttp.exchange(port, RawHttp.get("/static/a.txt", TestConfigs.WWW));
                assertThat(r.status()).as(r.text()).isEqualTo(200);
            }
            assertThat(RawHttp.exchange(port, RawHttp.get("/static/missing.txt", TestConfigs.WWW)).status()).isEqualTo(404);
            for (int i = 0; i < 2; i++) {
                assertThat(RawHttp.exchange(port, RawHttp.get("/echo/" + i, TestConfigs.WWW)).status()).isEqualTo(200);
            }
            // One connection left open: counted as active.
            try (Socket held = new Socket(InetAddress.getLoopbackAddress(), port)) {
                OutputStream out = held.getOutputStream();
                out.write(RawHttp.get("/static/a.txt", TestConfigs.WWW).getBytes(StandardCharsets.US_ASCII));
                out.flush();
                held.getInputStream().read(); // the answer has started: the request is counted once it ends

                HttpResponse<String> res = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(res.statusCode()).isEqualTo(200);
                assertThat(res.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
                Map<String, Double> m = samples(res.body());

                // The held connection's request too: counted as its answer is written, before the client reads it.
                assertThat(m).as(res.body()).containsEntry("webstack_web_requests_total{status=\"2xx\"}", 6.0)
                        .containsEntry("webstack_web_requests_total{status=\"4xx\"}", 1.0)
                        .containsEntry("webstack_web_requests_total{status=\"1xx\"}", 0.0)
                        .containsEntry("webstack_web_requests_total{status=\"3xx\"}", 0.0)
                        .containsEntry("webstack_web_requests_total{status=\"5xx\"}", 0.0)
                        .containsEntry("webstack_web_connections_accepted_total", 7.0)
                        .containsEntry("webstack_web_connections_active", 1.0);
                String member = "{member=\"app-1\"}";
                assertThat(m).containsEntry("webstack_web_upstream_requests_total" + member, 2.0)
                        .containsEntry("webstack_web_upstream_failures_total" + member, 0.0)
                        .containsEntry("webstack_web_upstream_inflight" + member, 0.0)
                        .containsEntry("webstack_web_upstream_up" + member, 1.0);
                assertThat(m.keySet()).as("JVM meters").anyMatch(k -> k.startsWith("jvm_memory_used_bytes{area=\"heap\""));
            }
        }
    }

    /** Sample lines ({@code name{labels} value}) by name and labels; comments skipped. */
    private static Map<String, Double> samples(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }
}
