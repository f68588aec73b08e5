package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.HostPort;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;
import org.xbill.DNS.ZoneTransferException;
import org.xbill.DNS.ZoneTransferIn;

/** AXFR over TCP with dnsjava's transfer client: the whole zone to an allowed address, REFUSED to others. */
class ZoneTransferTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static TreeSet<String> lines(List<Record> records) {
        return records.stream().map(Record::toString).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void anAllowedClientGetsTheWholeZoneBetweenTwoSoas() throws Exception {
        try (DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)))) {
            ZoneTransferIn axfr = ZoneTransferIn.newAXFR(Name.fromConstantString("example.test."), "127.0.0.1", server.port(), null);
            axfr.run();
            List<Record> records = axfr.getAXFR();

            ZoneData zone = ZoneLoader.load(new dev.webstack.common.config.DnsConfig.Zone("example.test.", TestZones.EXAMPLE));
            List<Record> expected = zone.rrsets().stream().flatMap(r -> r.rrs(false).stream()).toList();
            assertThat(records.get(0).getType()).isEqualTo(Type.SOA);
            assertThat(lines(records)).isEqualTo(lines(expected));
            assertThat(records).as("every record once, the SOA twice").hasSize(expected.size() + 1);
            assertThat(lines(records)).as("glue below the cut").anyMatch(l -> l.startsWith("ns.sub.example.test."));
        }
    }

    @Test
    void othersAreRefused() throws Exception {
        try (DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(addr("192.0.2.1"))))) {
            ZoneTransferIn axfr = ZoneTransferIn.newAXFR(Name.fromConstantString("foobar.com."), "127.0.0.1", server.port(), null);
            assertThatThrownBy(axfr::run).isInstanceOf(ZoneTransferException.class).hasMessageContaining("REFUSED");
        }
    }

    @Test
    void aZoneLargerThanOneMessageIsSplit() {
        ZoneData zone = ZoneLoader.load(new dev.webstack.common.config.DnsConfig.Zone("example.test.", TestZones.EXAMPLE));
        byte[] query = ResponderTest.query("example.test.", Type.AXFR, -1, false, false, 9);

        // The big TXT RRset alone is about 1.8 KB: with 16 KB messages, one message holds the zone.
        List<byte[]> messages = new ZoneTransfer(Set.of(LOOPBACK)).transfer(query, LOOPBACK, List.of(zone)).orElseThrow();
        assertThat(messages).hasSize(1);
        assertThat(new ZoneTransfer(Set.of(LOOPBACK)).transfer(query, addr("192.0.2.9"), List.of(zone))).isEmpty();
    }

    private static InetAddress addr(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
