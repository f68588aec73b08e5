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
