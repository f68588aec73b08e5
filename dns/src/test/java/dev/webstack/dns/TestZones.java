package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.ZoneTransferIn;

/** The zones the tests serve (the real foobar.com zone and the test zone) and message helpers. */
final class TestZones {
    static final Path FOOBAR = Path.of("../zones/foobar.com.zone");
    static final Path EXAMPLE = Path.of("src/test/resources/zones/example.test.zone");

    private TestZones() {}

    /**
     * Waits up to {@code within} for {@code server} to serve precompiled answers (it renders them
     * on a thread of its own after a start or a reload); returns how many it serves now.
     */
    static int awaitPrecompiled(DnsServer server, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (server.responder().precompiled() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return server.responder().precompiled();
    }

    static DnsConfig config(HostPort listen) {
        return new DnsConfig(listen,
                List.of(new DnsConfig.Zone("foobar.com.", FOOBAR), new DnsConfig.Zone("example.test.", EXAMPLE)),
                1232);
    }

    static QueryHandler handler() {
        DnsConfig config = config(new HostPort("127.0.0.1", 0));
        return new QueryHandler(new Authority(ZoneLoader.loadAll(config)), config.udpPayload());
    }

    /** A query as a stub resolver sends it: RD set, no EDNS. */
    static Message query(String name, int type) {
        return query(name, type, DClass.IN);
    }

    static Message query(String name, int type, int dclass) {
        try {
            return Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, dclass));
        } catch (TextParseException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Message parse(byte[] wire) {
        try {
            return new Message(wire);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A zone file's text with its SOA serial (the line of the test zones' SOA that ends in the refresh, 7200) set to {@code serial}. */
    static String withSerial(String zone, long serial) {
        return zone.replaceFirst("\n {16}\\d+ 7200", "\n                " + serial + " 7200");
    }

    /** Serial 2 of {@link #EXAMPLE}, from serial 1's text: c3's A deleted, ns1's A with a new TTL (300), added's A added. */
    static String exampleV2(String v1) {
        return withSerial(v1, 2).replace("c3      IN A    192.0.2.3\n", "")
                .replace("ns1     IN A    192.0.2.1\n", "ns1 300 IN A    192.0.2.1\n") + "added IN A 192.0.2.77\n";
    }

    /** Serial 3 of {@link #EXAMPLE}, from serial 2's text: a TXT record added. */
    static String exampleV3(String v2) {
        return withSerial(v2, 3) + "more IN TXT \"three\"\n";
    }

    /** Asserts that {@code deltas} are the two differences of {@link #exampleV2} and {@link #exampleV3}, TTLs included. */
    static void assertExampleDeltas(List<ZoneTransferIn.Delta> deltas) {
        assertThat(deltas).extracting(d -> d.start + "->" + d.end).containsExactly("1->2", "2->3");
        assertThat(changes(deltas.get(0).deletes)).containsExactlyInAnyOrder(
                "c3.example.test. 3600 IN A 192.0.2.3", "ns1.example.test. 3600 IN A 192.0.2.1");
        assertThat(changes(deltas.get(0).adds)).containsExactlyInAnyOrder(
                "added.example.test. 3600 IN A 192.0.2.77", "ns1.example.test. 300 IN A 192.0.2.1");
        assertThat(changes(deltas.get(1).deletes)).isEmpty();
        assertThat(changes(deltas.get(1).adds)).containsExactly("more.example.test. 3600 IN TXT \"three\"");
    }

    /** A delta's records but its SOA (dnsjava puts the SOA first), as text with their TTLs. */
    static List<String> changes(List<Record> records) {
        return records.stream().filter(r -> r.getType() != Type.SOA).map(Record::toString).map(l -> l.replaceAll("\\s+", " ")).toList();
    }

    /** The records of a section as {@code name ttl type rdata} lines, easy to read in a failed assertion. */
    static List<String> section(Message message, int section) {
        return message.getSection(section).stream()
                .map(r -> r.getName() + " " + r.getTTL() + " " + Type.string(r.getType()) + " " + r.rdataToString())
                .collect(Collectors.toList());
    }
}
