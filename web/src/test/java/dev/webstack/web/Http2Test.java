package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.AccessLogFormat;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 over TLS, chosen by ALPN, with the JDK's HTTP client (which offers h2 first): the same
 * site as HTTP/1.1, each stream through the same request handlers. The site's name here is
 * {@code localhost}, which the client can reach and the self-signed certificate carries.
 */
class Http2Test {
    private static final SiteConfig SITE = new SiteConfig("localdomain", "localhost");
    private static final int MAX_BODY = 1024 * 1024;

    @TempDir
    Path dir;
    private TestUpstream app;
    private WebConfig web;
    private WebServer server;
    private HttpClient client;
    private byte[] large;

    @BeforeEach
    void start() throws Exception {
        app = new TestUpstream("app-1", 100);
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/small.txt"), "small over h2\n");
        large = new byte[3 * 1024 * 1024 + 5];
        new Random(11).nextBytes(large);
        Files.write(dir.resolve("public/static/large.bin"), large);
        WebConfig.Tls tls = new WebConfig.Tls(new HostPort("127.0.0.1", 0), dir.resolve("var/tls/web.crt"),
                dir.resolve("var/tls/web.key"), true, false, Duration.ofDays(1));
        web = TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(app.address()),
                Duration.ofSeconds(5)).withTls(Optional.of(tls));
        server = WebServer.start(web, SITE, WebConfig.Limits.DEFAULTS.withMaxBody(MAX_BODY));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TrustingContext.of(dir.resolve("var/tls/web.crt")))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
        app.close();
    }

    private URI uri(String path) {
        return URI.create("https://localhost:" + server.tlsPort() + path);
    }

    private HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void staticFilesSmallAndLargeOverHttp2() throws Exception {
        HttpResponse<byte[]> small = get("/static/small.txt");
        assertThat(small.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(small.statusCode()).isEqualTo(200);
        assertThat(new String(small.body())).isEqualTo("small over h2\n");
        assertThat(small.headers().firstValue("strict-transport-security")).hasValue("max-age=86400");
        assertThat(small.headers().firstValue("date")).isPresent();
        assertThat(small.headers().firstValue("connection")).as("no connection-specific header in HTTP/2").isEmpty();

        HttpResponse<byte[]> whole = get("/static/large.bin");
        assertThat(whole.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(Arrays.equals(whole.body(), large)).as("3 MB file, byte for byte").isTrue();

        HttpResponse<byte[]> missing = get("/static/none.txt");
        assertThat(missing.statusCode()).isEqualTo(404);

        server.close(); // writes out the access log
        String log = Files.readString(dir.resolve("log/access.log"));
        assertThat(log).contains("\"GET /static/small.txt HTTP/2.0\" 200 14 ")
                .contains("\"GET /static/large.bin HTTP/2.0\" 200 " + large.length + " ");
    }

    @Test
    void aRequestWithMoreHeaderFieldsThanTheLimitIs431() throws Exception {
        server.close();
        server = WebServer.start(web, SITE, WebConfig.Limits.DEFAULTS.withHeaderLimits(
                WebConfig.Limits.MAX_REQUEST_LINE, WebConfig.Limits.MAX_HEADER_SIZE, 20));
        HttpRequest.Builder few = HttpRequest.newBuilder(uri("/static/small.txt")).timeout(Duration.ofSeconds(10));
        HttpRequest.Builder many = HttpRequest.newBuilder(uri("/static/small.txt")).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < 30; i++) {
            many.header("X-Field-" + i, "v");
            if (i < 10) {
                few.header("X-Field-" + i, "v");
            }
        }
        HttpResponse<String> refused = client.send(many.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(refused.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(refused.statusCode()).as("30 fields, web.max-headers 20").isEqualTo(431);
        HttpResponse<String> served = client.send(few.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(served.statusCode()).as("10 fields, on the same connection").isEqualTo(200);
        assertThat(served.body()).isEqualTo("small over h2\n");
    }

    @Test
    void aPathLongerThanTheRequestLineLimitIs414() throws Exception {
        server.close();
        server = WebServer.start(web, SITE,
                WebConfig.Limits.DEFAULTS.withHeaderLimits(1024, WebConfig.Limits.MAX_HEADER_SIZE, WebConfig.Limits.MAX_HEADERS));
        HttpResponse<byte[]> refused = get("/static/small.txt?" + "a".repeat(1100));
        assertThat(refused.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(refused.statusCode()).as("a 1.1 KB path, web.max-request-line 1024").isEqualTo(414);
        assertThat(get("/static/small.txt?" + "a".repeat(900)).statusCode()).as("a 0.9 KB path").isEqualTo(200);
    }

    @Test
    void overHttp2TheLengthsAreTheHttp11FormsOfTheRequestAndTheAnswer() throws Exception {
        server.reload(web.withAccessLogFormat(AccessLogFormat.parse("$request_length $bytes_sent $body_bytes_sent",
                AccessLogFormat.Escape.DEFAULT)), SITE);
        HttpResponse<byte[]> small = get("/static/small.txt");
        assertThat(small.version()).isEqualTo(HttpClient.Version.HTTP_2);
        long expected = http1Size(small);
        server.close(); // writes out the access log
        String[] f = Files.readAllLines(dir.resolve("log/access.log")).getFirst().split(" ");
        assertThat(Long.parseLong(f[2])).isEqualTo(small.body().length);
        assertThat(Long.parseLong(f[1])).as("$bytes_sent").isEqualTo(expected);
        // The request: "GET /static/small.txt HTTP/2.0", its fields (host, user-agent, x-request-id, ...).
        assertThat(Long.parseLong(f[0])).as("$request_length").isGreaterThan("GET /static/small.txt HTTP/2.0\r\n\r\n".length() + 40);
    }

    /** The answer as HTTP/1.1 sends it: status line, each field as "name: value", CRLFs, body. */
    private static long http1Size(HttpResponse<byte[]> res) {
        long size = "HTTP/1.1 200 OK".length() + 2 + 2 + res.body().length;
        for (var field : res.headers().map().entrySet()) {
            if (!field.getKey().startsWith(":")) {
                for (String value : field.getValue()) {
                    size += field.getKey().length() + 2 + value.length() + 2;
                }
            }
        }
        return size;
    }

    @Test
    void overHttp11WithTlsBytesSentCountsTheFileSentInChunks() throws Exception {
        server.reload(web.withAccessLogFormat(AccessLogFormat.parse("$bytes_sent $body_bytes_sent", AccessLogFormat.Escape.DEFAULT)), SITE);
        HttpResponse<byte[]> whole;
        try (HttpClient http11 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(TrustingContext.of(dir.resolve("var/tls/web.crt"))).build()) {
            whole = http11.send(HttpRequest.newBuilder(uri("/static/large.bin")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        }
        assertThat(whole.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(whole.body()).hasSize(large.length);
        server.close(); // writes out the access log
        assertThat(Files.readAllLines(dir.resolve("log/access.log"))).containsExactly(http1Size(whole) + " " + large.length);
    }

    @Test
    void theStreamsOfOneConnectionAreItsRequestsInTheLog() throws Exception {
        server.reload(web.withAccessLogFormat(AccessLogFormat.parse("$connection $connection_requests $server_protocol $status",
                AccessLogFormat.Escape.DEFAULT)), SITE);
        for (int i = 0; i < 3; i++) {
            assertThat(get("/static/small.txt").version()).isEqualTo(HttpClient.Version.HTTP_2);
        }
        server.close(); // writes out the access log
        List<String> lines = Files.readAllLines(dir.resolve("log/access.log"));
        assertThat(lines).hasSize(3);
        String connection = lines.getFirst().split(" ")[0];
        assertThat(lines).containsExactly(connection + " 1 HTTP/2.0 200", connection + " 2 HTTP/2.0 200", connection + " 3 HTTP/2.0 200");
    }

    @Test
    void proxiedOverHttp2InParallelOnOneConnection() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            answers.add(client.sendAsync(HttpRequest.newBuilder(uri("/echo/" + i)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < answers.size(); i++) {
            HttpResponse<String> r = answers.get(i).get();
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("GET /echo/" + i + "\n").contains("x-forwarded-proto: https\n")
                    .contains("via: 1.1 webstack\n").contains("host: localhost:" + server.tlsPort() + "\n");
            assertThat(r.headers().firstValue("keep-alive")).as("hop-by-hop, from the app server").isEmpty();
        }
        assertThat(app.requests.get()).isEqualTo(40);
    }

    @Test
    void requestBodiesStreamUpAndOversizedOnesAreRefused() throws Exception {
        byte[] body = new byte[300 * 1024]; // above BodyGate's gathering size: streamed to the app server
        Random random = new Random(3);
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + random.nextInt(26)); // text: the test app server echoes it as a string
        }
        HttpResponse<byte[]> echoed = client.send(HttpRequest.newBuilder(uri("/upload")).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(echoed.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(echoed.statusCode()).isEqualTo(200);
        assertThat(Arrays.mismatch(echoed.body(), body)).as("the first byte that differs").isEqualTo(-1);

        int before = app.requests.get();
        // Answered while the client still sends, then reset with NO_ERROR (RFC 9113 section 8.1):
        // the client reads the answer rather than a failed stream.
        HttpResponse<String> tooLarge = client.send(HttpRequest.newBuilder(uri("/upload")).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[MAX_BODY + 1])).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(app.requests.get()).as("nothing reached the app server").isEqualTo(before);

        // The connection goes on serving.
        assertThat(get("/static/small.txt").statusCode()).isEqualTo(200);
    }
}
