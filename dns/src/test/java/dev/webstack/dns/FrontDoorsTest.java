package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** Two web tiers as two apex A records: the DNS tier hands out only those whose health check passes. */
class FrontDoorsTest {

    @TempDir
    Path dir;

    @Test
    void failingFrontDoorsAreLeftOutAndAllComeBackWhenNoneAnswers() throws Exception {
        int webPort = freePort();
        HttpServer doorA = door("127.0.0.1", webPort);
        HttpServer doorB = door("127.0.0.2", webPort);
        Path zone = dir.resolve("example.test.zone");
        Files.writeString(zone, """
                $ORIGIN example.test.
                $TTL 60
                @    IN SOA ns1 hostmaster 1 3600 900 1209600 60
                @    IN NS  ns1
                ns1  IN A   127.0.0.1
                @    IN A   127.0.0.1
                @    IN A   127.0.0.2
                www  IN CNAME @
                """);
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", zone)), 1232,
                DnsConfig.RateLimit.NSD_DEFAULTS, List.of(), List.of(),
                List.of(new DnsConfig.HealthCheck("example.test.", webPort, "/-/health", Duration.ofMillis(100))));
        try (DnsServer server = DnsServer.start(config)) {
            assertThat(addresses(server, "www.example.test.")).containsExactly("127.0.0.1", "127.0.0.2");

            doorB.stop(0);
            assertThat(awaitAddresses(server, Set.of("127.0.0.1"))).as("only the healthy front door").containsExactly("127.0.0.1");

            doorA.stop(0);
            assertThat(awaitAddresses(server, Set.of("127.0.0.1", "127.0.0.2")))
                    .as("none healthy: all of them, as failover records do").containsExactly("127.0.0.1", "127.0.0.2");

            HttpServer backB = door("127.0.0.2", webPort);
            try {
                assertThat(awaitAddresses(server, Set.of("127.0.0.2"))).containsExactly("127.0.0.2");
            } finally {
                backB.stop(0);
            }
        }
    }

    @Test
    void reloadStartsAndStopsHealthChecksTogetherWithTheZones() throws Exception {
        int webPort = freePort();
        HttpServer doorA = door("127.0.0.1", webPort); // 127.0.0.2 and 127.0.0.3 have no web tier
        Path zone = dir.resolve("example.test.zone");
        String head = """
                $ORIGIN example.test.
                $TTL 60
                @    IN SOA ns1 hostmaster %d 3600 900 1209600 60
                @    IN NS  ns1
                ns1  IN A   127.0.0.1
                @    IN A   127.0.0.1
                @    IN A   127.0.0.2
                www  IN CNAME @
                """;
        Files.writeString(zone, head.formatted(1));
        List<DnsConfig.Zone> zones = List.of(new DnsConfig.Zone("example.test.", zone));
        DnsConfig.HealthCheck check = new DnsConfig.HealthCheck("example.test.", webPort, "/-/health", Duration.ofMillis(100));
        try (DnsServer server = DnsServer.start(config(zones, List.of()))) {
            assertThat(addresses(server, "www.example.test.")).as("no health checks yet").containsExactly("127.0.0.1", "127.0.0.2");

            Files.writeString(zone, head.formatted(2) + "@    IN A   127.0.0.3\n");
            ZoneReload started = server.reload(config(zones, List.of(check)));
            assertThat(started.toString()).contains("example.test. updated (serial 1 -> 2)", "dns.health-checks: started example.test.");
            assertThat(awaitAddresses(server, Set.of("127.0.0.1"))).as("probes started by the reload, on the new zone's addresses")
                    .containsExactly("127.0.0.1");

            assertThat(server.reload(config(zones, List.of(check))).notes()).as("same checks: probes left alone").isEmpty();
            assertThat(addresses(server, "www.example.test.")).as("failing doors still left out").containsExactly("127.0.0.1");

            ZoneReload stopped = server.reload(config(zones, List.of()));
            assertThat(stopped.toString()).contains("dns.health-checks: stopped example.test.");
            // No polling: the reload's swap itself gives every address again.
            assertThat(addresses(server, "www.example.test.")).containsExactly("127.0.0.1", "127.0.0.2", "127.0.0.3");
            Thread.sleep(300); // three probe intervals: a stopped probe must not come back
            assertThat(addresses(server, "www.example.test.")).containsExactly("127.0.0.1", "127.0.0.2", "127.0.0.3");
        } finally {
            doorA.stop(0);
        }
    }

    private static DnsConfig config(List<DnsConfig.Zone> zones, List<DnsConfig.HealthCheck> checks) {
        return new DnsConfig(new HostPort("127.0.0.1", 0), zones, 1232, DnsConfig.RateLimit.NSD_DEFAULTS, List.of(), List.of(), checks);
    }

    /** Polls (bounded) until the answer is {@code expected}; returns the last answer seen. */
    private static Set<String> awaitAddresses(DnsServer server, Set<String> expected) throws Exception {
        Set<String> last = Set.of();
        for (int i = 0; i < 100 && !last.equals(expected); i++) {
            last = addresses(server, "www.example.test.");
            if (!last.equals(expected)) {
                Thread.sleep(100);
            }
        }
        return last;
    }

    private static Set<String> addresses(DnsServer server, String name) throws IOException {
        SimpleResolver resolver = new SimpleResolver(InetAddress.getLoopbackAddress());
        resolver.setPort(server.port());
        resolver.setTimeout(Duration.ofSeconds(2));
        Message answer = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
        Set<String> out = new TreeSet<>();
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof ARecord a) {
                out.add(a.getAddress().getHostAddress());
            }
        }
        return out;
    }

    private static HttpServer door(String address, int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), port), 8);
        s.createContext("/-/health", ex -> {
            byte[] ok = "ok\n".getBytes();
            ex.sendResponseHeaders(200, ok.length);
            ex.getResponseBody().write(ok);
            ex.close();
        });
        s.start();
        return s;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
