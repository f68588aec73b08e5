package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static dev.webstack.dns.TestZones.section;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** {@link DnsServer#reload}: new zones are served atomically, bad ones are rejected and the old data stays. */
class DnsServerReloadTest {
    private static final String HEAD = """
            $ORIGIN foobar.com.
            $TTL 300
            @    IN SOA ns1 hostmaster ( %d 3600 900 1209600 300 )
            @    IN NS  ns1
            ns1  IN A   127.0.0.1
            """;

    @TempDir
    Path dir;

    private Path zone;
    private DnsServer server;

    @BeforeEach
    void start() throws IOException {
        zone = dir.resolve("foobar.com.zone");
        write(10, "@ IN A 192.0.2.1");
        server = DnsServer.start(config(List.of(new DnsConfig.Zone("foobar.com.", zone))), DnsOptions.defaults().withRateLimit(RateLimit.OFF));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DnsConfig config(List<DnsConfig.Zone> zones) {
        return new DnsConfig(new HostPort("127.0.0.1", 0), zones, 1232);
    }

    private void write(long serial, String... records) throws IOException {
        Files.writeString(zone, HEAD.formatted(serial) + String.join("\n", records) + "\n");
    }

    private Message ask(String name, int type) throws IOException {
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
        resolver.setTimeout(Duration.ofSeconds(5));
        return resolver.send(query(name, type));
    }

    private long servedSerial() throws IOException {
        return ((SOARecord) ask("foobar.com", Type.SOA).getSection(Section.ANSWER).get(0)).getSerial();
    }

    @Test
    void aHigherSerialIsServedFromTheNextQuery() throws Exception {
        write(11, "@ IN A 192.0.2.2");

        ZoneReload result = server.reload();

        assertThat(result.zones()).extracting(ZoneReload.Zone::outcome).containsExactly(ZoneReload.Outcome.UPDATED);
        assertThat(result.toString()).contains("foobar.com. updated (serial 10 -> 11)");
        assertThat(result.orThrow()).isSameAs(result);
        assertThat(servedSerial()).isEqualTo(11);
        assertThat(section(ask("foobar.com", Type.A), Section.ANSWER)).containsExactly("foobar.com. 300 A 192.0.2.2");
        // The new zone's answers are rendered after the swap (the slow path answered until then).
        awaitPrecompiled();
        assertThat(section(ask("foobar.com", Type.A), Section.ANSWER)).containsExactly("foobar.com. 300 A 192.0.2.2");
    }

    @Test
    void changedDataWithTheSameSerialIsRejectedAndTheOldDataStays() throws IOException {
        write(10, "@ IN A 192.0.2.99");

        ZoneReload result = server.reload();

        assertThat(result.rejected()).singleElement().satisfies(z -> {
            assertThat(z.origin()).isEqualTo("foobar.com.");
            assertThat(z.detail()).contains("serial 10 did not increase");
        });
        assertThatThrownBy(result::orThrow).hasMessageContaining("foobar.com. rejected").hasMessageContaining("did not increase");
        assertThat(section(ask("foobar.com", Type.A), Section.ANSWER)).containsExactly("foobar.com. 300 A 192.0.2.1");
    }

    @Test
    void aLowerSerialIsRejected() throws IOException {
        write(9, "@ IN A 192.0.2.3");

        assertThat(server.reload().rejected()).hasSize(1);
        assertThat(servedSerial()).isEqualTo(10);
    }

    @Test
    void aZoneWithASyntaxErrorIsRejectedWithFileAndLineAndTheOldDataStays() throws IOException {
        write(12, "@ IN A 192.0.2.4", "www IN A not-an-address");

        ZoneReload result = server.reload();

        assertThat(result.rejected()).singleElement().extracting(ZoneReload.Zone::detail).asString()
                .contains(zone.toString() + ":7:");
        assertThat(servedSerial()).isEqualTo(10);
        assertThat(ask("www.foobar.com", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    }

    @Test
    void serialsCompareInRfc1982Arithmetic() {
        assertThat(DnsServer.serialIncreased(10, 11)).isTrue();
        assertThat(DnsServer.serialIncreased(4_294_967_295L, 1)).as("wraps around").isTrue();
        assertThat(DnsServer.serialIncreased(1, 4_294_967_295L)).isFalse();
        assertThat(DnsServer.serialIncreased(10, 10)).isFalse();
    }

    @Test
    void anEditThatLeavesTheDataAsItWasIsUnchanged() throws Exception {
        awaitPrecompiled();
        Responder serving = server.responder();
        // Read again (its bytes changed), and compared record by record with the zone served.
        Files.writeString(zone, Files.readString(zone).replace("@    IN NS  ns1", "; the servers\n@ 300 IN NS ns1.foobar.com.")
                + "; a comment at the end\n");

        ZoneReload result = server.reload();

        assertThat(result.zones()).extracting(ZoneReload.Zone::outcome).containsExactly(ZoneReload.Outcome.UNCHANGED);
        assertThat(server.responder()).as("the answers served on, not rendered again").isSameAs(serving);
    }

    @Test
    void theSameFileIsUnchanged() throws Exception {
        awaitPrecompiled();
        Responder serving = server.responder();

        ZoneReload result = server.reload();

        assertThat(result.zones()).extracting(ZoneReload.Zone::outcome).containsExactly(ZoneReload.Outcome.UNCHANGED);
        assertThat(result.changed()).isFalse();
        assertThat(server.responder()).as("the answers served on, not rendered again").isSameAs(serving);
    }

    /** Waits until the answers of the zones served are precompiled. */
    private void awaitPrecompiled() throws InterruptedException {
        assertThat(TestZones.awaitPrecompiled(server, Duration.ofSeconds(10))).as("answers precompiled within 10 s").isGreaterThan(3);
    }

    @Test
    void aFileWithAnIncludeIsReadAgainEvenWhenItsOwnBytesAreTheSame() throws IOException {
        // A reload skips a file whose bytes it served (ZoneLoader.Source#digest); an $INCLUDEd file may
        // change alone, so a file with one is read again every time.
        Path part = dir.resolve("part.zone");
        Files.writeString(part, "www IN A 192.0.2.10\n");
        write(12, "@ IN A 192.0.2.1", "$include " + part);
        assertThat(server.reload().zones()).extracting(ZoneReload.Zone::outcome).containsExactly(ZoneReload.Outcome.UPDATED);

        Files.writeString(part, "www IN A 192.0.2.11\n");
        ZoneReload result = server.reload();

        assertThat(result.toString()).as("read again: the data changed, the serial did not").contains("serial 12 did not increase");
        write(13, "@ IN A 192.0.2.1", "$include " + part);
        assertThat(server.reload().zones()).extracting(ZoneReload.Zone::outcome).containsExactly(ZoneReload.Outcome.UPDATED);
        assertThat(section(ask("www.foobar.com", Type.A), Section.ANSWER)).containsExactly("www.foobar.com. 300 A 192.0.2.11");
    }

    @Test
    void sourcesAreTheSameForTheSameBytesOnly() throws IOException {
        Path a = dir.resolve("a.zone");
        Path b = dir.resolve("b.zone");
        Files.writeString(a, HEAD.formatted(1));
        Files.writeString(b, HEAD.formatted(1));
        assertThat(ZoneLoader.read(a).digest()).get().isEqualTo(ZoneLoader.read(b).digest().orElseThrow());
        Files.writeString(b, HEAD.formatted(2));
        assertThat(ZoneLoader.read(a).digest().orElseThrow()).isNotEqualTo(ZoneLoader.read(b).digest().orElseThrow());
        Files.writeString(b, HEAD.formatted(1) + "$InClUdE other.zone\n");
        assertThat(ZoneLoader.read(b).digest()).as("with an $INCLUDE, in any case").isEmpty();
        assertThat(ZoneLoader.read(dir.resolve("missing.zone")).digest()).isEmpty();
    }

    @Test
    void zonesAreAddedAndRemovedWithTheConfig() throws IOException {
        DnsConfig other = config(List.of(new DnsConfig.Zone("example.test.", TestZones.EXAMPLE)));

        ZoneReload result = server.reload(other);

        assertThat(result.zones()).extracting(ZoneReload.Zone::toString)
                .containsExactlyInAnyOrder("example.test. added (serial 1)", "foobar.com. removed");
        assertThat(ask("example.test", Type.A).getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(ask("foobar.com", Type.A).getRcode()).as("no longer served").isEqualTo(Rcode.REFUSED);
    }

    @Test
    void everyQueryDuringReloadsIsAnsweredFromTheOldOrTheNewZone() throws Exception {
        ExecutorService asker = Executors.newSingleThreadExecutor();
        try {
            Future<List<Long>> serials = asker.submit(() -> {
                List<Long> seen = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    seen.add(servedSerial());
                }
                return seen;
            });
            for (long serial = 11; serial <= 20; serial++) {
                write(serial, "@ IN A 192.0.2." + serial);
                server.reload().orThrow();
            }
            assertThat(serials.get()).hasSize(300).allMatch(s -> s >= 10 && s <= 20).isSorted();
        } finally {
            asker.shutdownNow();
        }
    }

    @Test
    void aChangedRateLimitAppliesFromTheNextQuery() throws IOException {
        DnsConfig off = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("foobar.com.", zone)), 1232,
                new DnsConfig.RateLimit(0, 2, 24, 56), List.of(), List.of(), List.of());
        DnsConfig three = new DnsConfig(off.listen(), off.zones(), off.udpPayload(), new DnsConfig.RateLimit(3, 0, 24, 56),
                List.of(), List.of(), List.of());
        assertThat(server.reload(off).toString()).contains("dns.rate-limit applied: off");
        assertThat(answeredOf(20)).isEqualTo(20);

        assertThat(server.reload(three).toString()).contains("dns.rate-limit applied: 3/s per /24 slip 0");
        int answered = answeredOf(20);
        // 3 a second: 3 of a burst, or 6 when the burst straddles a second.
        assertThat(answered).isBetween(3, 6);

        assertThat(server.reload(three).toString()).doesNotContain("rate-limit");
        assertThat(answeredOf(20)).as("the same limit, still in force (its counters too)").isLessThanOrEqualTo(6);

        server.reload(off);
        assertThat(answeredOf(20)).isEqualTo(20);
    }

    /** Sends {@code count} queries at once from one socket and counts the answers that come back within 500 ms. */
    private int answeredOf(int count) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(500);
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            for (int i = 0; i < count; i++) {
                byte[] q = query("foobar.com", Type.A).toWire();
                socket.send(new DatagramPacket(q, q.length, to));
            }
            int answered = 0;
            byte[] buf = new byte[1500];
            while (true) {
                try {
                    socket.receive(new DatagramPacket(buf, buf.length));
                    answered++;
                } catch (SocketTimeoutException silence) {
                    return answered;
                }
            }
        }
    }
}
