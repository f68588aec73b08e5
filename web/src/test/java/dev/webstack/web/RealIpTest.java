package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.AddressRange;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code web.real-ip}: the client's address from X-Forwarded-For or the PROXY protocol when the
 * peer is a trusted proxy, as the access log, {@code allow} and the app see it.
 */
class RealIpTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              access-log: log/access.log
              header-timeout: 1s
              upstreams: [127.0.0.1:%d]
              real-ip:
                from: [%s]
                source: %s
              locations:
                - path: /echo/
                  proxy: app
                  allow: [203.0.113.0/24]
            """;

    @TempDir
    Path dir;

    private static RealIp trusting(String... ranges) {
        return new RealIp(new WebConfig.RealIp(List.of(ranges).stream().map(AddressRange::parse).toList(), WebConfig.Source.X_FORWARDED_FOR));
    }

    private static String client(RealIp realIp, String... header) {
        RealIp.Client c = realIp.fromForwardedFor(List.of(header));
        return c == null ? null : c.text();
    }

    @Test
    void theClientIsTheLastAddressThatIsNotATrustedProxy() {
        RealIp realIp = trusting("10.0.0.0/8", "127.0.0.1");
        assertThat(client(realIp, "203.0.113.5")).isEqualTo("203.0.113.5");
        assertThat(client(realIp, "203.0.113.5, 10.0.0.2")).isEqualTo("203.0.113.5");
        assertThat(client(realIp, "192.0.2.66, 198.51.100.7, 10.0.0.2")).as("what the client itself wrote is not believed")
                .isEqualTo("198.51.100.7");
        assertThat(client(realIp, "192.0.2.66", "198.51.100.7,10.0.0.9")).as("several header lines, in order").isEqualTo("198.51.100.7");
        assertThat(client(realIp, "10.0.0.3, 10.0.0.2")).as("all of them proxies: the first").isEqualTo("10.0.0.3");
        assertThat(client(realIp, "203.0.113.5, unknown, 10.0.0.2")).as("not an address: the walk stops before it").isEqualTo("10.0.0.2");
        assertThat(client(realIp, "evil.example")).as("never looked up in DNS").isNull();
        assertThat(client(realIp, "2001:db8::7, 10.0.0.2")).isEqualTo("2001:db8:0:0:0:0:0:7");
    }

    private WebServer start(TestUpstream app, String from, String source) {
        return WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(app.address().port(), from, source)).web(),
                TestConfigs.SITE);
    }

    private static String get(String forwardedFor) {
        return "GET /echo/x HTTP/1.1\r\nHost: www.foobar.com\r\n" + (forwardedFor == null ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n")
                + "\r\n";
    }

    @Test
    void fromATrustedPeerXForwardedForNamesTheClientForAllowAndTheLog() throws Exception {
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            WebServer server = start(app, "127.0.0.1", "x-forwarded-for");
            try {
                try (RawHttp http = new RawHttp(server.port())) {
                    http.send(get("203.0.113.9"));
                    RawHttp.Response allowed = http.read();
                    assertThat(allowed.status()).as("203.0.113.9 is allowed, 127.0.0.1 is not").isEqualTo(200);
                    assertThat(allowed.text()).as("the app sees the whole chain").contains("x-forwarded-for: 203.0.113.9, 127.0.0.1\n");
                    http.send(get(null));
                    assertThat(http.read().status()).as("the next request on the connection names no one: the peer").isEqualTo(403);
                }
                server.reload(StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(app.address().port(), "10.0.0.0/8",
                        "x-forwarded-for")).web(), TestConfigs.SITE);
                assertThat(RawHttp.exchange(server.port(), get("203.0.113.9")).status()).as("an untrusted peer's header is ignored").isEqualTo(403);
            } finally {
                server.close();
            }
            String log = Files.readString(dir.resolve("log/access.log"));
            assertThat(log).startsWith("203.0.113.9 - - [").contains("\n127.0.0.1 - - [");
        }
    }

    @Test
    void withTheProxyProtocolEveryConnectionSaysItsClientFirst() throws Exception {
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            WebServer server = start(app, "127.0.0.0/8", "proxy-protocol");
            try {
                try (RawHttp http = new RawHttp(server.port())) {
                    http.send("PROXY TCP4 203.0.113.77 127.0.0.1 40000 80\r\n" + get("198.51.100.1"));
                    RawHttp.Response r = http.read();
                    assertThat(r.status()).as("the PROXY header's source, not X-Forwarded-For").isEqualTo(200);
                    http.send(get(null));
                    assertThat(http.read().status()).as("for the whole connection").isEqualTo(200);
                }
                try (RawHttp plain = new RawHttp(server.port())) {
                    plain.send(get(null));
                    assertThat(plain.closedByServer()).as("no PROXY header: closed").isTrue();
                }
                // Broken headers close the connection and nothing else: the next client is served. The
                // last one (v2, announcing 65,535 bytes of addresses) is closed by the header timeout.
                for (String broken : List.of("PROXY TCP4 203.0.113.77\r\n", "PROXY TCP4 not-an-ip 127.0.0.1 1 2\r\n",
                        "PROXY TCP9 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY " + "x".repeat(200) + "\r\n",
                        "\r\n\r\n\0\r\nQUIT\n\u0021\u0011\u00ff\u00ff")) {
                    try (RawHttp bad = new RawHttp(server.port())) {
                        bad.send(broken + get(null));
                        assertThat(bad.closedByServer()).as("closed after %s", broken.strip()).isTrue();
                    }
                }
                try (RawHttp next = new RawHttp(server.port())) {
                    next.send("PROXY UNKNOWN\r\n" + get(null));
                    assertThat(next.read().status()).as("UNKNOWN: the peer's own address, 127.0.0.1, not allowed").isEqualTo(403);
                }
                // A reload turns it off for the connections accepted after it; an open one goes on as it started.
                WebConfig off = StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(app.address().port(), "127.0.0.1",
                        "x-forwarded-for")).web();
                try (RawHttp open = new RawHttp(server.port())) {
                    open.send("PROXY TCP4 203.0.113.78 127.0.0.1 40001 80\r\n" + get(null));
                    assertThat(open.read().status()).isEqualTo(200);
                    server.reload(off, TestConfigs.SITE);
                    assertThat(RawHttp.exchange(server.port(), get("203.0.113.9")).status()).as("no PROXY header now").isEqualTo(200);
                    open.send(get(null));
                    assertThat(open.read().status()).as("the connection that began with one").isEqualTo(200);
                }
                server.reload(StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.formatted(app.address().port(), "127.0.0.0/8",
                        "proxy-protocol")).web(), TestConfigs.SITE);
                try (RawHttp plain = new RawHttp(server.port())) {
                    plain.send(get(null));
                    assertThat(plain.closedByServer()).as("on again: no PROXY header, closed").isTrue();
                }
            } finally {
                server.close();
            }
            assertThat(Files.readString(dir.resolve("log/access.log"))).startsWith("203.0.113.77 - - [");
        }
    }

    @Test
    void behindTheProxyProtocolConnectionsAreCountedPerRealClient() throws Exception {
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            String yaml = CONFIG.formatted(app.address().port(), "127.0.0.0/8", "proxy-protocol")
                    .replace("  header-timeout: 1s\n", "  header-timeout: 1s\n  max-connections-per-client: 2\n");
            WebServer server = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), yaml).web(), TestConfigs.SITE);
            List<RawHttp> held = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    RawHttp c = new RawHttp(server.port());
                    c.send("PROXY TCP4 203.0.113.77 127.0.0.1 4000" + i + " 80\r\n" + get(null));
                    assertThat(c.read().status()).isEqualTo(200);
                    held.add(c);
                }
                try (RawHttp third = new RawHttp(server.port())) {
                    third.send("PROXY TCP4 203.0.113.77 127.0.0.1 40009 80\r\n" + get(null));
                    assertThat(third.closedByServer()).as("a third connection of 203.0.113.77").isTrue();
                }
                try (RawHttp other = new RawHttp(server.port())) {
                    other.send("PROXY TCP4 203.0.113.78 127.0.0.1 40010 80\r\n" + get(null));
                    assertThat(other.read().status()).as("another client behind the same proxy").isEqualTo(200);
                }
            } finally {
                for (RawHttp c : held) {
                    c.close();
                }
                server.close();
            }
        }
    }
}
