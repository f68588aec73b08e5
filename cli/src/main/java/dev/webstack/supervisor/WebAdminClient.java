package dev.webstack.supervisor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Talks to the web tier's admin API (JSON over HTTP on {@code web.admin}, loopback only) to change
 * its upstream pool while it serves: add and remove app servers, drain, enable, disable.
 */
public final class WebAdminClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_MS = 100;

    private final HostPort admin;
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    public WebAdminClient(HostPort admin) {
        this.admin = admin;
        this.base = URI.create("http://" + admin + "/");
    }

    /** The admin API's address this client calls. */
    public HostPort admin() {
        return admin;
    }

    /** One member of the web tier's upstream pool, as the admin API reports it. */
    public record Member(String name, String address, int weight, String state, boolean healthy, long inflight, long requests, long failures) {
        static Member of(JsonNode n) {
            return new Member(n.path("name").asText(), n.path("address").asText(), n.path("weight").asInt(1),
                    n.path("state").asText(), n.path("healthy").asBoolean(), n.path("inflight").asLong(),
                    n.path("requests").asLong(), n.path("failures").asLong());
        }
    }

    public List<Member> members() throws IOException {
        JsonNode root = call("GET", "upstreams", null);
        List<Member> out = new ArrayList<>();
        root.path("upstreams").forEach(n -> out.add(Member.of(n)));
        return out;
    }

    public Optional<Member> member(String name) throws IOException {
        return members().stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /** Adds (or replaces) a member; it takes traffic once the web tier's health check passes. */
    public Member put(String name, HostPort address) throws IOException {
        String body = JSON.createObjectNode().put("address", address.toString()).put("weight", 1).toString();
        return Member.of(call("PUT", "upstreams/" + name, body));
    }

    public void remove(String name) throws IOException {
        call("DELETE", "upstreams/" + name, null);
    }

    public Member drain(String name) throws IOException {
        return Member.of(call("POST", "upstreams/" + name + "/drain", ""));
    }

    public Member enable(String name) throws IOException {
        return Member.of(call("POST", "upstreams/" + name + "/enable", ""));
    }

    public Member disable(String name) throws IOException {
        return Member.of(call("POST", "upstreams/" + name + "/disable", ""));
    }

    /** Waits until the member has no request in flight; false when {@code timeout} passed first. */
    public boolean awaitIdle(String name, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Member> m = member(name);
            if (m.isEmpty() || m.get().inflight() == 0) {
                return true;
            }
            Thread.sleep(POLL_MS);
        }
        return false;
    }

    /** Waits until the web tier's own health check has admitted the member; false on timeout. */
    public boolean awaitServing(String name, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Member> m = member(name);
            if (m.isPresent() && m.get().healthy() && "up".equals(m.get().state())) {
                return true;
            }
            Thread.sleep(POLL_MS);
        }
        return false;
    }

    private JsonNode call(String method, String path, String body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (r.statusCode() / 100 != 2) {
            throw new IOException("web admin " + method + " /" + path + " -> " + r.statusCode() + ": " + r.body().trim());
        }
        return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }
}
