package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load balancing against real (tiny) app servers on loopback, driven through the proxy and the
 * admin API. Waits are bounded polls on state, never assertions on time.
 */
class LoadBalancingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    // Fast checks so that the polls below end quickly; no slow start, so counts are exact.
    private static final BalancerSettings FAST = BalancerSettings.defaults()
            .withHealthInterval(Duration.ofMillis(50)).withSlowStart(Duration.ZERO);

    @TempDir
    Path dir;
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private WebServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
    }

    private TestUpstream upstream(String name, long slowMillis) throws IOException {
        TestUpstream u = new TestUpstream(name, slowMillis);
        closeAfter.add(u);
        return u;
    }

    private int start(BalancerSettings settings, HostPort... upstreams) throws IOException {
        server = WebServer.start(
                TestConfigs.web(Files.createDirectories(dir.resolve("public")), dir.resolve("log/access.log"),
                        List.of(upstreams), Duration.ofSeconds(5)),
                TestConfigs.SITE, WebConfig.Limits.DEFAULTS, settings);
        return server.port();
    }

    private String get(int port, String path) throws IOException {
        RawHttp.Response res = RawHttp.exchange(port, RawHttp.get(path, TestConfigs.WWW));
        assertThat(res.status()).as("GET %s", path).isEqualTo(200);
        return res.header("x-upstream");
    }

    private JsonNode admin(String method, String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = adminCall(method, path, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> adminCall(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json")
                .build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private String state(String name) throws IOException, InterruptedException {
        for (JsonNode m : admin("GET", "/upstreams", null).path("upstreams")) {
            if (m.path("name").asText().equals(name)) {
                return m.path("state").asText();
            }
        }
        return "absent";
    }

    /** Polls (bounded: 10 s) until the condition holds. */
    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1000 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).as(what).isTrue();
    }

    private BooleanSupplier stateIs(String name, String expected) {
        return () -> {
            try {
                return state(name).equals(expected);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Test
    void roundRobinSpreadsRequestsEvenly() throws Exception {
        TestUpstream a = upstream("a", 0);
        TestUpstream b = upstream("b", 0);
        TestUpstream c = upstream("c", 0);
        int port = start(FAST, a.address(), b.address(), c.address());
        for (int i = 0; i < 30; i++) {
            get(port, "/echo/" + i);
        }
        assertThat(List.of(a.requests.get(), b.requests.get(), c.requests.get())).containsExactly(10, 10, 10);
    }

    @Test
    void aMemberThatIsNotReadyIsTakenOutAndComesBackWhenItRecovers() throws Exception {
        TestUpstream a = upstream("a", 0);
        TestUpstream b = upstream("b", 0);
        int port = start(FAST, a.address(), b.address());
        b.ready = false;
        await("app-2 down after failed checks", stateIs("app-2", "down"));
        for (int i = 0; i < 20; i++) {
            assertThat(get(port, "/echo")).isEqualTo("a");
        }
        b.ready = true;
        await("app-2 up after passed checks", stateIs("app-2", "up"));
        int before = b.requests.get();
        for (int i = 0; i < 20; i++) {
            get(port, "/echo");
        }
        assertThat(b.requests.get() - before).isEqualTo(10);
    }

    @Test
    void killingOneOfTwoUpstreamsUnderLoadFailsNoGet() throws Exception {
        TestUpstream a = upstream("a", 0);
        TestUpstream b = new TestUpstream("b", 0);
        int port = start(FAST, a.address(), b.address());
        AtomicInteger ok = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger sent = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            clients.add(Thread.ofPlatform().start(() -> {
                // Keep-alive connections, so pooled upstream connections to b break too.
                try (RawHttp conn = new RawHttp(port)) {
                    while (sent.incrementAndGet() <= 800) {
                        conn.send(RawHttp.get("/echo", TestConfigs.WWW));
                        RawHttp.Response res = conn.read();
                        if (res.status() == 200) {
                            ok.incrementAndGet();
                        } else {
                            failures.add(res.status() + " " + res.text());
                        }
                    }
                } catch (IOException e) {
                    failures.add(e.toString());
                }
            }));
        }
        await("load under way", () -> b.requests.get() >= 50);
        b.close();
        for (Thread t : clients) {
            t.join(30_000);
        }
        assertThat(failures).as("failed GETs").isEmpty();
        assertThat(ok.get()).isEqualTo(800);
        await("app-2 down", stateIs("app-2", "down"));
    }

    @Test
    void aPostWrittenToAConnectionThatClosesIsNotRetriedButOneThatCouldNotConnectIs() throws Exception {
        try (Closer closer = new Closer()) {
            TestUpstream a = upstream("a", 0);
            // The closer answers no health check: checks off, and no ejection, so it stays first in turn.
            int port = start(FAST.withHealthInterval(Duration.ZERO).withPassiveFails(0), closer.address(), a.address());
            String post = "POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 5\r\n\r\nhello";
            RawHttp.Response res = RawHttp.exchange(port, post);
            assertThat(res.status()).isEqualTo(502);
            await("the POST reached the closer", () -> closer.requests.get() == 1);
            assertThat(a.requests.get()).as("the POST was not sent again to app-2").isZero();
            // Next in turn is app-2 (a), then the closer again: a GET there is retried on app-2.
            assertThat(get(port, "/echo")).isEqualTo("a");
            assertThat(get(port, "/echo")).isEqualTo("a");
            assertThat(closer.requests.get()).isEqualTo(2);
        }
        server.close();
        server = null;
        TestUpstream b = upstream("b", 0);
        int port = start(FAST.withHealthInterval(Duration.ZERO), new HostPort("127.0.0.1", TestConfigs.refusingPort()), b.address());
        String post = "POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 5\r\n\r\nhello";
        RawHttp.Response res = RawHttp.exchange(port, post);
        assertThat(res.status()).as("nothing reached a server: retried elsewhere").isEqualTo(200);
        assertThat(res.text()).isEqualTo("hello");
    }

    @Test
    void drainingStopsNewRequestsAndLetsInFlightOnesFinish() throws Exception {
        // Slow enough that the drain below lands while the request is still in flight on a busy machine.
        TestUpstream a = upstream("a", 3000);
        TestUpstream b = upstream("b", 0);
        int port = start(FAST, a.address(), b.address());
        try (RawHttp slow = new RawHttp(port)) {
            slow.send(RawHttp.get("/slow", TestConfigs.WWW));
            await("the slow request is at app-1", () -> a.requests.get() == 1);
            JsonNode drained = admin("POST", "/upstreams/app-1/drain", "");
            assertThat(drained.path("state").asText()).isEqualTo("draining");
            assertThat(drained.path("inflight").asLong()).isEqualTo(1);
            for (int i = 0; i < 10; i++) {
                assertThat(get(port, "/echo")).isEqualTo("b");
            }
            RawHttp.Response res = slow.read();
            assertThat(res.status()).isEqualTo(200);
            assertThat(res.text()).isEqualTo("slow");
        }
        await("app-1 idle", () -> server.upstreams().member("app-1").orElseThrow().inflight() == 0);
        assertThat(a.requests.get()).isEqualTo(1);
        assertThat(admin("POST", "/upstreams/app-1/enable", "").path("state").asText()).isEqualTo("up");
        for (int i = 0; i < 10; i++) {
            get(port, "/echo");
        }
        assertThat(a.requests.get()).isEqualTo(6);
        assertThat(admin("POST", "/upstreams/app-1/disable", "").path("state").asText()).isEqualTo("disabled");
        for (int i = 0; i < 4; i++) {
            assertThat(get(port, "/echo")).isEqualTo("b");
        }
    }

    @Test
    void aPutMemberGetsTrafficAfterItsHealthCheckAndADeletedOneNone() throws Exception {
        TestUpstream a = upstream("a", 0);
        TestUpstream b = upstream("b", 0);
        b.ready = false;
        int port = start(FAST, a.address());
        JsonNode added = admin("PUT", "/upstreams/app-2", "{\"address\":\"" + b.address() + "\",\"weight\":1}");
        assertThat(added.path("state").asText()).isEqualTo("starting");
        assertThat(added.path("healthy").asBoolean()).isFalse();
        for (int i = 0; i < 10; i++) {
            assertThat(get(port, "/echo")).as("not admitted before its check passes").isEqualTo("a");
        }
        b.ready = true;
        await("app-2 admitted", stateIs("app-2", "up"));
        for (int i = 0; i < 10; i++) {
            get(port, "/echo");
        }
        assertThat(b.requests.get()).isEqualTo(5);
        admin("DELETE", "/upstreams/app-2", null);
        assertThat(state("app-2")).isEqualTo("absent");
        for (int i = 0; i < 10; i++) {
            assertThat(get(port, "/echo")).isEqualTo("a");
        }
    }

    @Test
    void theAdminApiAnswersWhatTheSupervisorsClientReads() throws Exception {
        TestUpstream a = upstream("a", 0);
        int port = start(FAST, a.address(), new HostPort("127.0.0.1", TestConfigs.refusingPort()));
        get(port, "/echo");
        JsonNode list = admin("GET", "/upstreams", null).path("upstreams");
        assertThat(list.isArray()).isTrue();
        assertThat(list).hasSize(2);
        JsonNode first = list.get(0);
        assertThat(first.path("name").asText()).isEqualTo("app-1");
        assertThat(first.path("address").asText()).isEqualTo(a.address().toString());
        assertThat(first.path("weight").isInt()).isTrue();
        assertThat(first.path("state").asText()).isEqualTo("up");
        assertThat(first.path("healthy").isBoolean()).isTrue();
        assertThat(first.path("inflight").isNumber()).isTrue();
        assertThat(first.path("requests").asLong()).isEqualTo(1);
        assertThat(first.path("failures").isNumber()).isTrue();
        assertThat(list.get(1).path("name").asText()).isEqualTo("app-2");
        await("app-2, on a closed port, down", stateIs("app-2", "down"));

        HttpResponse<String> unknown = adminCall("POST", "/upstreams/app-9/drain", "");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).path("error").asText()).contains("app-9");
        assertThat(adminCall("DELETE", "/upstreams/app-9", null).statusCode()).isEqualTo(404);
        HttpResponse<String> bad = adminCall("PUT", "/upstreams/app-3", "{\"weight\":1}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).path("error").asText()).contains("address");
    }

    /** An app server that reads a request's head, counts it and closes without answering. */
    private static final class Closer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger requests = new AtomicInteger();
        private final Thread acceptor = Thread.ofPlatform().daemon().start(this::serve);

        Closer() throws IOException {}

        HostPort address() {
            return new HostPort("127.0.0.1", socket.getLocalPort());
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    InputStream in = s.getInputStream();
                    int matched = 0;
                    int c;
                    while (matched < 4 && (c = in.read()) != -1) {
                        matched = (c == '\r' || c == '\n') ? matched + 1 : 0;
                    }
                    if (matched == 4) {
                        requests.incrementAndGet();
                    }
                } catch (IOException e) {
                    return;
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
