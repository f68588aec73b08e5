package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.LocationConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link WebServer#reload}: a new config takes effect without dropping connections or requests. */
class ReloadTest {
    @TempDir
    Path dir;
    private TestUpstream a;
    private TestUpstream b;
    private WebServer server;
    private int port;

    @BeforeEach
    void start() throws IOException {
        a = new TestUpstream("app-a", 400);
        b = new TestUpstream("app-b", 400);
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/a.txt"), "static a");
        server = WebServer.start(config(a.address()), TestConfigs.SITE);
        port = server.port();
    }

    @AfterEach
    void stop() {
        server.close();
        a.close();
        b.close();
    }

    private WebConfig config(HostPort upstream) {
        return TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(upstream), Duration.ofSeconds(5));
    }

    @Test
    void openConnectionsAndInFlightRequestsSurviveAndTheNextRequestUsesTheNewConfig() throws Exception {
        try (RawHttp keepAlive = new RawHttp(port); RawHttp slow = new RawHttp(port)) {
            keepAlive.send(RawHttp.get("/echo/1", TestConfigs.WWW));
            assertThat(keepAlive.read().header("x-upstream")).isEqualTo("app-a");
            slow.send(RawHttp.get("/slow", TestConfigs.WWW));
            // Wait (bounded) until the slow request is at the upstream, then reload under it.
            for (int i = 0; i < 500 && a.requests.get() < 2; i++) {
                Thread.sleep(5);
            }
            server.reload(config(b.address()), TestConfigs.SITE);

            RawHttp.Response inFlight = slow.read();
            assertThat(inFlight.status()).isEqualTo(200);
            assertThat(inFlight.text()).isEqualTo("slow");
            keepAlive.send(RawHttp.get("/echo/2", TestConfigs.WWW));
            RawHttp.Response after = keepAlive.read();
            assertThat(after.status()).isEqualTo(200);
            assertThat(after.header("x-upstream")).as("the same connection, after the reload").isEqualTo("app-b");
        }
        assertThat(RawHttp.exchange(port, RawHttp.get("/echo/3", TestConfigs.WWW)).header("x-upstream")).isEqualTo("app-b");
    }

    @Test
    void theAccessLogIsTurnedOffAndOnByAReload() throws Exception {
        Path log = dir.resolve("log/access.log");
        RawHttp.exchange(port, RawHttp.get("/echo/logged-1", TestConfigs.WWW));
        WebConfig on = config(a.address());
        WebConfig off = new WebConfig(on.listen(), on.publicRoot(), on.locations(), on.mimeTypes(), on.upstreams(),
                on.connectTimeout(), on.readTimeout(), on.idleTimeout(), Optional.empty(), on.admin(),
                on.limits(), on.balancing(), Optional.empty());
        server.reload(off, TestConfigs.SITE);
        assertThat(RawHttp.exchange(port, RawHttp.get("/echo/not-logged", TestConfigs.WWW)).status()).isEqualTo(200);
        server.reload(on, TestConfigs.SITE);
        assertThat(RawHttp.exchange(port, RawHttp.get("/echo/logged-2", TestConfigs.WWW)).status()).isEqualTo(200);
        server.reload(off, TestConfigs.SITE); // closes the file: every line queued before is written

        String lines = Files.readString(log);
        assertThat(lines).contains("GET /echo/logged-1 ", "GET /echo/logged-2 ").doesNotContain("not-logged");
    }

    @Test
    void changedHeaderLimitsApplyToOpenConnectionsFromTheirNextRequest() throws Exception {
        WebConfig.Limits d = WebConfig.Limits.DEFAULTS;
        // A 12 KB request line: over the 8 KB default, under the raised limit.
        String longLine = RawHttp.get("/echo/" + "a".repeat(12 * 1024), TestConfigs.WWW);
        String twentyHeaders = "GET /echo/h HTTP/1.1\r\nHost: " + TestConfigs.WWW + "\r\n" + "X-N: 1\r\n".repeat(19) + "\r\n";
        try (RawHttp open = new RawHttp(port)) {
            open.send(RawHttp.get("/echo/1", TestConfigs.WWW));
            assertThat(open.read().status()).isEqualTo(200);
            server.reload(config(a.address()).withLimits(d.withHeaderLimits(16 * 1024, d.maxHeaderSize(), 20)), TestConfigs.SITE);
            open.send(longLine);
            assertThat(open.read().status()).as("web.max-request-line up to 16 KB, on the open connection").isEqualTo(200);
            open.send(twentyHeaders);
            assertThat(open.read().status()).as("20 fields with web.max-headers at 20").isEqualTo(200);
            server.reload(config(a.address()).withLimits(d.withHeaderLimits(1024, 1024, 10)), TestConfigs.SITE);
            open.send(twentyHeaders);
            RawHttp.Response refused = open.read();
            assertThat(refused.status()).as("20 fields with web.max-headers at 10").isEqualTo(431);
            assertThat(open.closedByServer()).isTrue();
        }
        assertThat(RawHttp.exchange(port, longLine).status()).as("12 KB line, limit 1 KB").isEqualTo(414);
        String bigHeader = "GET /echo/b HTTP/1.1\r\nHost: " + TestConfigs.WWW + "\r\nX-Big: " + "b".repeat(2048) + "\r\n\r\n";
        assertThat(RawHttp.exchange(port, bigHeader).status()).as("2 KB header, limit 1 KB").isEqualTo(431);
        server.reload(config(a.address()), TestConfigs.SITE);
        assertThat(RawHttp.exchange(port, bigHeader).status()).as("back to the defaults").isEqualTo(200);
        assertThat(RawHttp.exchange(port, longLine).status()).as("back to the defaults: 8 KB").isEqualTo(414);
    }

    @Test
    void changedLimitsApplyToNewConnectionsAndToOpenOnesFromTheirNextRequest() throws Exception {
        String post = "POST /echo/up HTTP/1.1\r\nHost: " + TestConfigs.WWW + "\r\nContent-Length: 2048\r\n\r\n" + "x".repeat(2048);
        WebConfig.Limits d = WebConfig.Limits.DEFAULTS;
        WebConfig small = config(a.address()).withLimits(d.withMaxBody(1024));
        try (RawHttp open = new RawHttp(port)) {
            open.send(post);
            assertThat(open.read().status()).isEqualTo(200);
            server.reload(small, TestConfigs.SITE);
            open.send(post);
            assertThat(open.read().status()).as("web.max-body down to 1024, on the open connection").isEqualTo(413);
        }
        assertThat(RawHttp.exchange(port, post).status()).as("a new connection").isEqualTo(413);
        server.reload(config(a.address()), TestConfigs.SITE);
        assertThat(RawHttp.exchange(port, post).status()).as("back to the default").isEqualTo(200);

        WebConfig one = config(a.address()).withLimits(d.withMaxConnectionsPerClient(1));
        server.reload(one, TestConfigs.SITE);
        try (RawHttp first = new RawHttp(port)) {
            first.send(RawHttp.get("/echo/1", TestConfigs.WWW));
            assertThat(first.read().status()).isEqualTo(200);
            try (RawHttp second = new RawHttp(port)) {
                assertThat(second.closedByServer()).as("web.max-connections-per-client: 1").isTrue();
            }
        }
    }

    @Test
    void changedBalancingAppliesAtOnce() throws Exception {
        HostPort nobody = new HostPort("127.0.0.1", TestConfigs.refusingPort());
        WebConfig.Balancing d = WebConfig.Balancing.DEFAULTS;
        WebConfig checked = config(a.address()).withUpstreams(List.of(a.address(), nobody))
                .withBalancing(new WebConfig.Balancing(d.balance(), Duration.ofMillis(100), Duration.ofMillis(500), d.rise(),
                        d.riseNew(), 1, d.ejectAfter(), d.ejectWindow(), d.slowStart()));
        server.reload(checked, TestConfigs.SITE);
        Member app2 = server.upstreams().member("app-2").orElseThrow();
        for (int i = 0; i < 200 && app2.health() != Member.Health.DOWN; i++) {
            Thread.sleep(25);
        }
        assertThat(app2.health()).as("found down by the checks every 100 ms the reload set").isEqualTo(Member.Health.DOWN);

        WebConfig unchecked = checked.withBalancing(new WebConfig.Balancing(WebConfig.Balance.LEAST_CONN, Duration.ZERO,
                d.checkTimeout(), d.rise(), d.riseNew(), d.fall(), d.ejectAfter(), d.ejectWindow(), d.slowStart()));
        server.reload(unchecked, TestConfigs.SITE);
        assertThat(server.upstreams().settings().algorithm()).isEqualTo(BalancerSettings.Algorithm.LEAST_CONNECTIONS);
        assertThat(app2.health()).as("active checks off: nothing would bring it back, so it counts as up").isEqualTo(Member.Health.UP);
        // A GET that meets the closed port is retried on app-1.
        for (int i = 0; i < 4; i++) {
            assertThat(RawHttp.exchange(port, RawHttp.get("/echo/" + i, TestConfigs.WWW)).header("x-upstream")).isEqualTo("app-a");
        }
    }

    @Test
    void aMovedListenAddressIsBoundAndTheOldOneClosedWhileItsConnectionsGoOn() throws Exception {
        int moved = TestConfigs.closedPort();
        try (RawHttp open = new RawHttp(port)) {
            open.send(RawHttp.get("/echo/1", TestConfigs.WWW));
            assertThat(open.read().header("x-upstream")).isEqualTo("app-a");

            server.reload(config(b.address()).withListen(new HostPort("127.0.0.1", moved)), TestConfigs.SITE);

            assertThat(server.port()).isEqualTo(moved);
            assertThat(RawHttp.exchange(moved, RawHttp.get("/echo/2", TestConfigs.WWW)).header("x-upstream")).isEqualTo("app-b");
            assertThatThrownBy(() -> new RawHttp(port).close()).as("nothing listens on the old address")
                    .isInstanceOf(java.net.ConnectException.class);
            open.send(RawHttp.get("/echo/3", TestConfigs.WWW));
            RawHttp.Response after = open.read();
            assertThat(after.status()).as("a connection accepted on the old address").isEqualTo(200);
            assertThat(after.header("x-upstream")).isEqualTo("app-b");
        }
    }

    @Test
    void aListenAddressThatIsTakenRefusesTheReloadAndNothingChanges() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            WebConfig moved = config(b.address()).withListen(new HostPort("127.0.0.1", taken.getLocalPort()));
            assertThatThrownBy(() -> server.reload(moved, TestConfigs.SITE))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": the address is in use");
        }
        assertThat(server.port()).isEqualTo(port);
        assertThat(RawHttp.exchange(port, RawHttp.get("/echo/x", TestConfigs.WWW)).header("x-upstream"))
                .as("the upstream change of the refused reload is not applied").isEqualTo("app-a");
    }

    @Test
    void aReloadRefusedForAnotherReasonLeavesNothingListeningOnTheMovedAddress() throws Exception {
        int moved = TestConfigs.closedPort();
        LocationConfig locked = new LocationConfig(LocationConfig.Kind.PREFIX, "/", Optional.empty(),
                new LocationConfig.Proxy(LocationConfig.Proxy.APP), Optional.empty(), List.of(), false,
                new LocationConfig.Access(List.of(), List.of(), Optional.empty(),
                        Optional.of(new LocationConfig.BasicAuth("Staff", dir.resolve("no-such-htpasswd")))), java.util.Map.of());
        WebConfig broken = config(b.address()).withListen(new HostPort("127.0.0.1", moved)).withLocations(List.of(locked), java.util.Map.of());
        assertThatThrownBy(() -> server.reload(broken, TestConfigs.SITE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-such-htpasswd");
        assertThatThrownBy(() -> new RawHttp(moved).close()).as("the moved address was never bound, or closed again")
                .isInstanceOf(java.net.ConnectException.class);
        assertThat(RawHttp.exchange(port, RawHttp.get("/echo/x", TestConfigs.WWW)).header("x-upstream")).isEqualTo("app-a");
    }

    @Test
    void aMovedAdminApiAnswersAtItsNewAddressOnly() throws Exception {
        int before = server.adminPort();
        int moved = TestConfigs.closedPort();
        WebConfig on = config(a.address());
        WebConfig otherAdmin = new WebConfig(on.listen(), on.publicRoot(), on.locations(), on.mimeTypes(), List.of(b.address()),
                on.connectTimeout(), on.readTimeout(), on.idleTimeout(), on.accessLog(), new HostPort("127.0.0.1", moved),
                on.limits(), on.balancing(), Optional.empty());
        server.reload(otherAdmin, TestConfigs.SITE);

        assertThat(server.adminPort()).isEqualTo(moved);
        RawHttp.Response members = RawHttp.exchange(moved, RawHttp.get("/upstreams", "127.0.0.1"));
        assertThat(members.status()).isEqualTo(200);
        assertThat(members.text()).as("the pool the same reload set").contains(b.address().toString());
        assertThatThrownBy(() -> new RawHttp(before).close()).as("nothing listens on the old admin address")
                .isInstanceOf(java.net.ConnectException.class);
    }

    @Test
    void noRequestFailsWhileTheConfigIsReloadedRepeatedly() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            clients.add(CompletableFuture.runAsync(() -> {
                RawHttp http = null;
                try {
                    http = new RawHttp(port);
                    for (int i = 0; i < 2_000 && running.get(); i++) {
                        http.send(RawHttp.get(i % 2 == 0 ? "/echo/load" : "/static/a.txt", TestConfigs.WWW));
                        RawHttp.Response res = http.read();
                        if (res.status() == 200) {
                            ok.incrementAndGet();
                        } else {
                            failures.add("status " + res.status());
                        }
                        if (res.closes()) { // web.keepalive-requests reached: a new connection, as a browser opens
                            http.close();
                            http = new RawHttp(port);
                        }
                    }
                } catch (IOException e) {
                    failures.add(e.toString());
                } finally {
                    closeQuietly(http);
                }
            }));
        }
        try {
            for (int r = 0; r < 6; r++) {
                Thread.sleep(50);
                server.reload(config(r % 2 == 0 ? b.address() : a.address()), TestConfigs.SITE);
            }
        } finally {
            running.set(false);
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        }
        assertThat(failures).isEmpty();
        assertThat(ok.get()).isPositive();
    }

    static void closeQuietly(RawHttp http) {
        if (http != null) {
            try {
                http.close();
            } catch (IOException e) {
                // the test's verdict is in its failures
            }
        }
    }
}
