package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.AddressRange;
import dev.webstack.common.config.LocationConfig;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code allow}, {@code deny} and {@code limit-requests} of a location: the rate arithmetic on a
 * clock the test moves, then the answers over real sockets.
 */
class ClientAccessTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @TempDir
    Path dir;

    private static ClientAccess rate(double perSecond, int burst) {
        return ClientAccess.of(new LocationConfig.Access(List.of(), List.of(), Optional.of(new LocationConfig.RequestRate(perSecond, burst))));
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }

    @Test
    void aClientGetsItsBurstAtOnceThenTheRate() throws Exception {
        ClientAccess limit = rate(2, 3); // 2/s, 3 more at once
        long t = 1_000 * SECOND;
        InetAddress a = ip("192.0.2.1");
        for (int i = 0; i < 4; i++) {
            assertThat(limit.check(a, t).served()).as("request %d of the burst", i + 1).isTrue();
        }
        ClientAccess.Verdict refused = limit.check(a, t);
        assertThat(refused.refusal()).isEqualTo(HttpResponseStatus.TOO_MANY_REQUESTS);
        assertThat(refused.retryAfterSeconds()).as("half a second, rounded up").isEqualTo(1);
        assertThat(limit.check(ip("192.0.2.2"), t).served()).as("another client has its own bucket").isTrue();

        assertThat(limit.check(a, t + SECOND / 2 - 1).served()).as("not quite one interval later").isFalse();
        assertThat(limit.check(a, t + SECOND / 2).served()).as("one interval later, one more").isTrue();
        assertThat(limit.check(a, t + SECOND / 2).served()).isFalse();
        assertThat(limit.check(a, t + 10 * SECOND).served()).as("a quiet client has its whole burst back").isTrue();
        for (int i = 0; i < 3; i++) {
            assertThat(limit.check(a, t + 10 * SECOND).served()).isTrue();
        }
        assertThat(limit.check(a, t + 10 * SECOND).served()).isFalse();
    }

    @Test
    void aSlowRateSaysHowLongToWait() throws Exception {
        ClientAccess limit = rate(1 / 60.0, 0); // 1/m
        InetAddress a = ip("198.51.100.9");
        assertThat(limit.check(a, 0).served()).isTrue();
        ClientAccess.Verdict refused = limit.check(a, 15 * SECOND);
        assertThat(refused.served()).isFalse();
        assertThat(refused.retryAfterSeconds()).isEqualTo(45);
        assertThat(limit.check(a, 60 * SECOND).served()).isTrue();
    }

    @Test
    void ipv6ClientsShareTheLimitOfTheir64() throws Exception {
        ClientAccess limit = rate(1, 0);
        assertThat(limit.check(ip("2001:db8:1:2::1"), 0).served()).isTrue();
        assertThat(limit.check(ip("2001:db8:1:2:ffff::7"), 0).served()).as("same /64").isFalse();
        assertThat(limit.check(ip("2001:db8:1:3::1"), 0).served()).as("the next /64").isTrue();
        assertThat(limit.check(ip("::ffff:192.0.2.1"), 0).served()).as("IPv4-mapped is the IPv4 client").isTrue();
        assertThat(limit.check(ip("192.0.2.1"), 0).served()).isFalse();
    }

    @Test
    void idleClientsAreForgottenWhenRoomIsNeededAndAFullTableRefusesNewcomers() throws Exception {
        ClientAccess limit = rate(1, 0);
        byte[] a = {10, 0, 0, 0};
        for (int i = 0; i < ClientAccess.MAX_CLIENTS; i++) {
            a[1] = (byte) (i >> 16);
            a[2] = (byte) (i >> 8);
            a[3] = (byte) i;
            assertThat(limit.check(InetAddress.getByAddress(a), 0).served()).isTrue();
        }
        assertThat(limit.trackedClients()).isEqualTo(ClientAccess.MAX_CLIENTS);
        ClientAccess.Verdict full = limit.check(ip("192.0.2.1"), SECOND / 2);
        assertThat(full.refusal()).as("every tracked client is still within its interval").isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(limit.check(ip("192.0.2.1"), 2 * SECOND).served()).as("later the idle ones make room").isTrue();
        assertThat(limit.trackedClients()).isEqualTo(1);
    }

    @Test
    void denyWinsAndAnAllowListServesOnlyItsClients() throws Exception {
        ClientAccess access = ClientAccess.of(new LocationConfig.Access(
                List.of(AddressRange.parse("10.0.0.0/8")), List.of(AddressRange.parse("10.0.5.0/24")), Optional.empty()));
        assertThat(access.check(ip("10.1.2.3"), 0).served()).isTrue();
        assertThat(access.check(ip("10.0.5.3"), 0).refusal()).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(access.check(ip("192.0.2.1"), 0).refusal()).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(ClientAccess.of(LocationConfig.Access.OPEN)).as("nothing to check").isNull();
    }

    @Test
    void overSocketsRefusedRequestsGetTheirStatusKeepTheConnectionAndNeverReachTheApp() throws Exception {
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            Files.createDirectories(dir.resolve("public"));
            Files.writeString(dir.resolve("public/open.txt"), "open\n");
            String yaml = """
                    web:
                      listen: 127.0.0.1:0
                      admin: 127.0.0.1:0
                      public: public
                      access-log: off
                      upstreams: [127.0.0.1:%d]
                      locations:
                        - path: /admin/
                          proxy: app
                          allow: [10.0.0.0/8]
                        - path: /echo/
                          proxy: app
                          limit-requests: 1/m
                          limit-burst: 2
                        - path: = /open.txt
                          root: public
                          allow: [127.0.0.1, "::1"]
                        - path: /
                          proxy: app
                          deny: [127.0.0.0/8]
                    """.formatted(app.address().port());
            WebServer server = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), yaml).web(), TestConfigs.SITE);
            try (RawHttp http = new RawHttp(server.port())) {
                http.send(RawHttp.get("/admin/users", TestConfigs.WWW));
                RawHttp.Response forbidden = http.read();
                assertThat(forbidden.status()).as("127.0.0.1 is not in 10.0.0.0/8").isEqualTo(403);

                for (int i = 0; i < 3; i++) {
                    http.send(RawHttp.get("/echo/" + i, TestConfigs.WWW));
                    assertThat(http.read().status()).as("request %d: the rate and the burst of 2", i + 1).isEqualTo(200);
                }
                // A reload that changes another location keeps this one's counts, as nginx's zones outlive a reload.
                server.reload(StackConfig.parse(dir.resolve("webstack.yml"), yaml.replace("allow: [10.0.0.0/8]", "allow: [10.0.0.0/16]")).web(),
                        TestConfigs.SITE);
                http.send(RawHttp.get("/echo/3", TestConfigs.WWW));
                RawHttp.Response limited = http.read();
                assertThat(limited.status()).isEqualTo(429);
                assertThat(Long.parseLong(limited.header("retry-after"))).isBetween(1L, 60L);
                assertThat(limited.header("cache-control")).isEqualTo("no-store");

                http.send(RawHttp.get("/open.txt", TestConfigs.WWW));
                assertThat(http.read().text()).as("the same connection goes on").isEqualTo("open\n");
                http.send(RawHttp.get("/anything", TestConfigs.WWW));
                assertThat(http.read().status()).isEqualTo(403);
                http.send("OPTIONS * HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
                assertThat(http.read().status()).as("a target without a path: the location of /").isEqualTo(403);
            } finally {
                server.close();
            }
            assertThat(app.requests.get()).as("only the three requests within the rate reached the app").isEqualTo(3);
        }
    }

    @Test
    void aClientBeyondItsConnectionsIsClosedAndAdmittedAgainWhenOneCloses() throws Exception {
        threeAdmittedTheFourthClosed(WebConfig.Limits.DEFAULTS.withMaxConnectionsPerClient(3));
    }

    @Test
    void aConnectionBeyondTheServersMostIsClosedAndOneIsAdmittedAgainWhenOneCloses() throws Exception {
        threeAdmittedTheFourthClosed(WebConfig.Limits.DEFAULTS.withMaxConnections(3));
    }

    /** With a limit of three connections: three are served, a fourth is closed, a new one is served once one closed. */
    private void threeAdmittedTheFourthClosed(WebConfig.Limits limits) throws Exception {
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/a.txt"), "a\n");
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            WebServer server = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"),
                    List.of(app.address()), java.time.Duration.ofSeconds(5)), TestConfigs.SITE, limits);
            List<RawHttp> three = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawHttp c = new RawHttp(server.port());
                    c.send(RawHttp.get("/static/a.txt", TestConfigs.WWW));
                    assertThat(c.read().text()).isEqualTo("a\n");
                    three.add(c);
                }
                try (RawHttp fourth = new RawHttp(server.port())) {
                    assertThat(fourth.closedByServer()).as("a fourth connection").isTrue();
                }
                three.removeFirst().close();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                RawHttp.Response again = null;
                while (again == null && System.nanoTime() < deadline) {
                    try (RawHttp next = new RawHttp(server.port())) {
                        next.send(RawHttp.get("/static/a.txt", TestConfigs.WWW));
                        again = next.read();
                    } catch (IOException e) {
                        Thread.sleep(20); // the closed one is not yet uncounted
                    }
                }
                assertThat(again).as("admitted once one of the three closed").isNotNull();
                assertThat(again.status()).isEqualTo(200);
                for (RawHttp c : three) {
                    c.send(RawHttp.get("/static/a.txt", TestConfigs.WWW));
                    assertThat(c.read().status()).as("the open ones are served on").isEqualTo(200);
                }
            } finally {
                for (RawHttp c : three) {
                    c.close();
                }
                server.close();
            }
        }
    }
}
