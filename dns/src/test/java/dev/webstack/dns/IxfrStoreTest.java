package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Name;
import org.xbill.DNS.ZoneTransferIn;

/**
 * A zone's IXFR history across a restart: written by the reloads that make it, read back by the
 * next server when it leads to the zone file's data, ignored otherwise (a secondary then gets the
 * whole zone). Checked with dnsjava's IXFR client against real servers on loopback.
 */
class IxfrStoreTest {
    private static final Name ORIGIN = Name.fromConstantString("example.test.");

    @TempDir
    Path dir;

    private DnsServer start(Path zoneFile) {
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", zoneFile)), 1232);
        return DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF)
                .withTransferClients(Set.of(InetAddress.getLoopbackAddress())).withIxfrDir(dir.resolve("ixfr")));
    }

    private static ZoneTransferIn ixfr(DnsServer server, long from) throws Exception {
        ZoneTransferIn in = ZoneTransferIn.newIXFR(ORIGIN, from, false, "127.0.0.1", server.port(), null);
        in.run();
        return in;
    }

    /** Serial 1 (the test zone), then 2 (a record deleted, one added, a TTL changed) and 3 (one more added) by reloads; the file at 3. */
    private Path threeVersions() throws Exception {
        String v1 = Files.readString(TestZones.EXAMPLE);
        Path file = Files.writeString(dir.resolve("example.test.zone"), v1);
        try (DnsServer server = start(file)) {
            String v2 = TestZones.exampleV2(v1);
            Files.writeString(file, v2);
            assertThat(server.reload().toString()).contains("updated (serial 1 -> 2)");
            Files.writeString(file, TestZones.exampleV3(v2));
            assertThat(server.reload().toString()).contains("updated (serial 2 -> 3)");
        }
        return file;
    }

    @Test
    void aRestartedServerStillAnswersAnIxfrWithTheDifferences() throws Exception {
        Path file = threeVersions();
        Path kept = dir.resolve("ixfr/example.test.ixfr");
        assertThat(Files.readAllLines(kept).getFirst()).startsWith("; webstack IXFR history of example.test., zone digest sha256:");

        try (DnsServer server = start(file)) {
            ZoneTransferIn from1 = ixfr(server, 1);
            assertThat(from1.isAXFR()).as("the history outlived the restart").isFalse();
            TestZones.assertExampleDeltas(from1.getIXFR());

            // A reload after the restart adds to the restored history.
            Files.writeString(file, TestZones.withSerial(Files.readString(file), 4) + "four IN A 192.0.2.4\n");
            assertThat(server.reload().toString()).contains("updated (serial 3 -> 4)");
            assertThat(ixfr(server, 1).getIXFR()).extracting(d -> d.start + "->" + d.end).containsExactly("1->2", "2->3", "3->4");
        }
        try (DnsServer again = start(file)) {
            assertThat(ixfr(again, 2).getIXFR()).extracting(d -> d.start + "->" + d.end).containsExactly("2->3", "3->4");
        }
    }

    @Test
    void aZoneFileEditedWhileTheServerWasDownGetsNoHistory() throws Exception {
        Path file = threeVersions();
        // The same serial, other data: the history would lead a secondary to data never served.
        Files.writeString(file, Files.readString(file).replace("192.0.2.77", "192.0.2.78"));
        try (DnsServer server = start(file)) {
            assertThat(ixfr(server, 1).isAXFR()).as("the whole zone, not differences that do not lead to it").isTrue();
        }
        // A new serial: no difference ends there.
        Files.writeString(file, TestZones.withSerial(Files.readString(file), 9));
        try (DnsServer server = start(file)) {
            assertThat(ixfr(server, 2).isAXFR()).isTrue();
        }
    }

    @Test
    void anUnreadableHistoryIsIgnored() throws Exception {
        Path file = threeVersions();
        Path kept = dir.resolve("ixfr/example.test.ixfr");
        List<String> lines = Files.readAllLines(kept);
        // The header (digest) still matches; the records do not parse.
        Files.writeString(kept, lines.getFirst() + "\nexample.test. 3600 IN SOA broken\n");
        try (DnsServer server = start(file)) {
            assertThat(ixfr(server, 1).isAXFR()).isTrue();
        }
        Files.writeString(kept, "not a history\n");
        try (DnsServer server = start(file)) {
            assertThat(ixfr(server, 1).isAXFR()).isTrue();
            assertThat(ixfr(server, 3).isCurrent()).as("the server answers as ever").isTrue();
        }
    }

    @Test
    void aZoneThatKeepsNoHistoryHasNoFile() throws Exception {
        Path file = threeVersions();
        Path kept = dir.resolve("ixfr/example.test.ixfr");
        assertThat(kept).exists();
        IxfrStore store = new IxfrStore(dir.resolve("ixfr"));
        store.save(ZoneLoader.load(new DnsConfig.Zone("example.test.", file)));
        assertThat(kept).as("a zone as loaded, without differences").doesNotExist();
    }
}
