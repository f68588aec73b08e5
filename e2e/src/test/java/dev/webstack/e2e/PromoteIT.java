package dev.webstack.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code webstack db promote} on a running stack with a replica, under writes: {@code up -d} with
 * {@code db.replicas: 1} and two app servers, a client posting all along, then {@code db promote
 * --force} (the primary still runs, so the supervisor must stop it first). Every acknowledged post
 * must be on the new primary; the old primary must stay down; {@code var/run/stack.json} must say
 * who the primary is now.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromoteIT {
    static {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private static final String WWW = "www.foobar.com";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path home;
    private Path config;
    private int webPort;
    private int dbPort;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeAll
    void startTheStack() throws Exception {
        home = StackProcess.newHome("promote");
        webPort = StackProcess.freePort();
        dbPort = StackProcess.freePortRange(2);
        config = home.resolve("webstack.yml");
        Files.writeString(config, """
                dns:
                  listen: 127.0.0.1:%d
                web:
                  listen: 127.0.0.1:%d
                  admin: 127.0.0.1:%d
                  public: public
                app:
                  servers: 2
                  base-port: %d
                  codebase: %s
                  shutdown-timeout: 5s
                db:
                  listen: 127.0.0.1:%d
                  replicas: 1
                """.formatted(StackProcess.freePort(), webPort, StackProcess.freePort(), StackProcess.freePortRange(2),
                StackProcess.REPO.resolve("site/target/foobar-site"), dbPort));
        StackProcess.Run up = StackProcess.webstack(config, 300, "up", "-d");
        assertThat(up.exitCode()).as("webstack up -d:\n%s", up.output()).isZero();
        assertThat(up.output()).contains("db-replica-1", "app-2", "is up");
    }

    @AfterAll
    void stopTheStack() throws Exception {
        if (config != null) {
            StackProcess.Run down = StackProcess.webstack(config, 180, "down");
            assertThat(down.exitCode()).as(down.output()).isZero();
        }
    }

    @Test
    void promoteUnderWritesKeepsEveryAcknowledgedPostAndTheOldPrimaryStaysRetired() throws Exception {
        List<Long> acknowledged = new CopyOnWriteArrayList<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = Thread.ofVirtual().start(() -> {
            for (int i = 0; writing.get(); i++) {
                try {
                    HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/api/posts")).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"title\":\"write " + i + "\",\"body\":\"during the promotion\",\"author\":\"e2e\"}")));
                    if (r.statusCode() == 201) {
                        acknowledged.add(JSON.readTree(r.body()).path("id").asLong());
                    } else {
                        failed.incrementAndGet();
                    }
                    Thread.sleep(50);
                } catch (Exception e) {
                    failed.incrementAndGet();
                }
            }
        });
        Thread.sleep(1500);
        int beforePromotion = acknowledged.size();
        StackProcess.Run promote = StackProcess.webstack(config, 120, "db", "promote", "--force");
        Thread.sleep(2000);
        writing.set(false);
        writer.join();

        assertThat(promote.exitCode()).as(promote.output()).isZero();
        assertThat(promote.output()).contains("db stopped and retired", "is the primary now", "OK");
        assertThat(acknowledged.size()).as("posts acknowledged after the promotion").isGreaterThan(beforePromotion + 5);
        for (long id : acknowledged) {
            HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/api/posts/" + id)).GET());
            assertThat(post.statusCode()).as("acknowledged post %d on the new primary (%d acknowledged, %d failed)",
                    id, acknowledged.size(), failed.get()).isEqualTo(200);
        }
        System.out.printf("measured: promote --force under writes: %d POSTs acknowledged, all present; %d failed%n",
                acknowledged.size(), failed.get());

        JsonNode state = JSON.readTree(home.resolve("var/run/stack.json").toFile());
        assertThat(state.path("database").path("primary").asText()).isEqualTo("db-replica-1");
        assertThat(state.path("database").path("primaryAddress").asText()).isEqualTo("127.0.0.1:" + (dbPort + 1));
        assertThat(state.path("database").path("retired").toString()).isEqualTo("[\"db\"]");
        assertThat(state.path("components").findValuesAsText("name")).containsExactly("db-replica-1", "app-1", "app-2", "web", "dns");

        StackProcess.Run status = StackProcess.webstack(config, 60, "status");
        assertThat(status.exitCode()).as(status.output()).isZero();
        assertThat(status.output()).contains("promoted: a primary, writable").doesNotContainPattern("(?m)^  db +db ");
        String log = Files.readString(home.resolve("var/log/supervisor.log"));
        assertThat(log.substring(log.indexOf("db stopped for the promotion"))).as("db is never started again")
                .doesNotContain("db started as pid");
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + webPort + path);
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.header("Host", WWW).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
