package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;
import org.xbill.DNS.ZoneTransferException;
import org.xbill.DNS.ZoneTransferIn;

/**
 * AXFR and IXFR over TCP with dnsjava's transfer client: the whole zone to an allowed address,
 * REFUSED to others; an IXFR from a client that is up to date gets the SOA alone, one from a
 * serial served since the start the differences (applied, they give the current zone). IXFR over UDP
 * with a plain socket: one datagram, or the SOA alone when the zone does not fit.
 */
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
    void anIxfrGetsTheSoaAloneWhenTheClientIsUpToDateElseTheWholeZone() throws Exception {
        Name origin = Name.fromConstantString("example.test.");
        ZoneData zone = ZoneLoader.load(new dev.webstack.common.config.DnsConfig.Zone("example.test.", TestZones.EXAMPLE));
        long serial = zone.soa().getSerial();
        try (DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)))) {
            for (long theirs : new long[] {serial, serial + 5}) {
                ZoneTransferIn ixfr = ZoneTransferIn.newIXFR(origin, theirs, false, "127.0.0.1", server.port(), null);
                ixfr.run();
                assertThat(ixfr.isCurrent()).as("serial %d against ours %d: up to date", theirs, serial).isTrue();
            }
            ZoneTransferIn behind = ZoneTransferIn.newIXFR(origin, serial - 1, false, "127.0.0.1", server.port(), null);
            behind.run();
            assertThat(behind.isAXFR()).as("a serial not served since the start: the whole zone, as RFC 1995 section 4 allows").isTrue();
            List<Record> expected = zone.rrsets().stream().flatMap(r -> r.rrs(false).stream()).toList();
            assertThat(lines(behind.getAXFR())).isEqualTo(lines(expected));

            ZoneTransferIn other = ZoneTransferIn.newIXFR(Name.fromConstantString("foobar.com."), 1, false, "127.0.0.1", server.port(), null);
            other.run();
            assertThat(other.isAXFR()).as("an allowed client, another zone: transferred too").isTrue();
        }
        Message noSoa = Message.newQuery(Record.newRecord(origin, Type.IXFR, DClass.IN));
        List<byte[]> answer = new ZoneTransfer(Set.of(LOOPBACK)).transfer(noSoa.toWire(), LOOPBACK, List.of(zone), TestZones.handler()).orElseThrow();
        assertThat(new Message(answer.get(0)).getRcode()).as("an IXFR without the client's SOA").isEqualTo(Rcode.FORMERR);
    }

    @Test
    void anIxfrFromASerialServedSinceStartGetsTheDifferences(@TempDir Path dir) throws Exception {
        Name origin = Name.fromConstantString("example.test.");
        String v1 = Files.readString(TestZones.EXAMPLE);
        Path file = Files.writeString(dir.resolve("example.test.zone"), v1);
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", file)), 1232);
        try (DnsServer server = DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)))) {
            // Serial 2: a record added, one deleted, one with a new TTL; serial 3: one more added.
            String v2 = TestZones.exampleV2(v1);
            Files.writeString(file, v2);
            assertThat(server.reload().toString()).contains("updated (serial 1 -> 2)");
            Files.writeString(file, TestZones.exampleV3(v2));
            assertThat(server.reload().toString()).contains("updated (serial 2 -> 3)");

            ZoneTransferIn from1 = ZoneTransferIn.newIXFR(origin, 1, false, "127.0.0.1", server.port(), null);
            from1.run();
            assertThat(from1.isAXFR()).as("serial 1 was served: the differences, not the zone").isFalse();
            List<ZoneTransferIn.Delta> deltas = from1.getIXFR();
            TestZones.assertExampleDeltas(deltas);

            // The differences applied to serial 1's records give serial 3's, TTLs included.
            TreeSet<String> applied = withTtl(ZoneLoader.load(new DnsConfig.Zone("example.test.", TestZones.EXAMPLE)));
            for (ZoneTransferIn.Delta d : deltas) {
                applied.removeAll(changesWithSoa(d.deletes));
                applied.addAll(changesWithSoa(d.adds));
            }
            assertThat(applied).isEqualTo(withTtl(ZoneLoader.load(new DnsConfig.Zone("example.test.", file))));

            ZoneTransferIn from2 = ZoneTransferIn.newIXFR(origin, 2, false, "127.0.0.1", server.port(), null);
            from2.run();
            assertThat(from2.getIXFR()).extracting(d -> d.start + "->" + d.end).containsExactly("2->3");

            ZoneTransferIn unknown = ZoneTransferIn.newIXFR(origin, 0, false, "127.0.0.1", server.port(), null);
            unknown.run();
            assertThat(unknown.isAXFR()).as("a serial never served here: the whole zone").isTrue();

            // Over UDP the differences fit where the zone (a 1.8 KB TXT RRset) does not.
            ZoneData now = ZoneLoader.load(new DnsConfig.Zone("example.test.", file));
            List<String> answer = udp(server.port(), ixfr(now, 2, 1232)).getSection(Section.ANSWER).stream()
                    .map(r -> r instanceof SOARecord soa ? "SOA " + soa.getSerial() : r.rdataToString()).toList();
            assertThat(answer).containsExactly("SOA 3", "SOA 2", "SOA 3", "\"three\"", "SOA 3");
        }
    }

    @Test
    void aZoneWithHealthCheckedNamesKeepsNoHistory(@TempDir Path dir) throws Exception {
        Name origin = Name.fromConstantString("example.test.");
        String v1 = Files.readString(TestZones.EXAMPLE);
        Path file = Files.writeString(dir.resolve("example.test.zone"), v1);
        // Its front doors' addresses come and go without a serial: a secondary's copy may lack some.
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", file)), 1232,
                DnsConfig.RateLimit.NSD_DEFAULTS, List.of(), List.of(),
                List.of(new DnsConfig.HealthCheck("example.test.", 9, "/-/health", java.time.Duration.ofHours(1))));
        try (DnsServer server = DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)))) {
            Files.writeString(file, TestZones.withSerial(v1, 2) + "added IN A 192.0.2.77\n");
            assertThat(server.reload().toString()).contains("updated (serial 1 -> 2)");
            ZoneTransferIn from1 = ZoneTransferIn.newIXFR(origin, 1, false, "127.0.0.1", server.port(), null);
            from1.run();
            assertThat(from1.isAXFR()).as("the whole zone").isTrue();
        }
    }

    private static List<String> changesWithSoa(List<Record> records) {
        return records.stream().map(Record::toString).toList();
    }

    private static TreeSet<String> withTtl(ZoneData zone) {
        return zone.rrsets().stream().flatMap(r -> r.rrs(false).stream()).map(Record::toString).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void anIxfrOverUdpGetsOneDatagramWhenItFitsElseTheSoaAlone() throws Exception {
        ZoneData foobar = ZoneLoader.load(new DnsConfig.Zone("foobar.com.", TestZones.FOOBAR));
        ZoneData example = ZoneLoader.load(new DnsConfig.Zone("example.test.", TestZones.EXAMPLE));
        try (DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)))) {
            Message behind = udp(server.port(), ixfr(foobar, foobar.soa().getSerial() - 1, -1));
            assertThat(behind.getRcode()).isEqualTo(Rcode.NOERROR);
            assertThat(behind.getHeader().getFlag(Flags.AA)).isTrue();
            assertThat(behind.getHeader().getFlag(Flags.TC)).isFalse();
            List<Record> answer = behind.getSection(Section.ANSWER);
            List<Record> expected = foobar.rrsets().stream().flatMap(r -> r.rrs(false).stream()).toList();
            assertThat(answer.getFirst()).isEqualTo(foobar.soa());
            assertThat(answer.getLast()).isEqualTo(foobar.soa());
            assertThat(lines(answer)).as("the whole zone in one datagram, as NSD answers").isEqualTo(lines(expected));
            assertThat(answer).hasSize(expected.size() + 1);

            Message current = udp(server.port(), ixfr(foobar, foobar.soa().getSerial(), -1));
            assertThat(current.getSection(Section.ANSWER)).as("up to date: the SOA alone").containsExactly(foobar.soa());

            // example.test holds a TXT RRset of about 1.8 KB: the zone fits neither 512 bytes nor 1232.
            for (int edns : new int[] {-1, 1232}) {
                Message tooLarge = udp(server.port(), ixfr(example, example.soa().getSerial() - 1, edns));
                assertThat(tooLarge.getRcode()).isEqualTo(Rcode.NOERROR);
                assertThat(tooLarge.getSection(Section.ANSWER)).as("too large for UDP (edns %d): the SOA alone, RFC 1995 section 2", edns)
                        .containsExactly(example.soa());
            }

            Message axfr = Message.newQuery(Record.newRecord(foobar.origin(), Type.AXFR, DClass.IN));
            assertThat(udp(server.port(), axfr).getRcode()).as("AXFR over UDP").isEqualTo(Rcode.REFUSED);
        }
        try (DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(RateLimit.OFF))) {
            assertThat(udp(server.port(), ixfr(foobar, 1, -1)).getRcode()).as("IXFR over UDP from a client not allowed").isEqualTo(Rcode.REFUSED);
        }
    }

    @Test
    void theIxfrQuestionIsFoundWithoutParsing() {
        ZoneData foobar = ZoneLoader.load(new DnsConfig.Zone("foobar.com.", TestZones.FOOBAR));
        assertThat(ZoneTransfer.asksIxfr(Unpooled.wrappedBuffer(ixfr(foobar, 1, -1).toWire()))).isTrue();
        assertThat(ZoneTransfer.asksIxfr(Unpooled.wrappedBuffer(TestZones.query("foobar.com.", Type.SOA).toWire()))).isFalse();
        byte[] cut = Arrays.copyOf(ixfr(foobar, 1, -1).toWire(), 12 + 12 + 1); // the name, and one byte of the type
        assertThat(ZoneTransfer.asksIxfr(Unpooled.wrappedBuffer(cut))).isFalse();
        assertThat(ZoneTransfer.asksIxfr(Unpooled.wrappedBuffer(new byte[12]))).isFalse();
    }

    /** An IXFR query for {@code zone} from a client at {@code serial}, with EDNS of that size unless it is -1. */
    private static Message ixfr(ZoneData zone, long serial, int edns) {
        Message query = Message.newQuery(Record.newRecord(zone.origin(), Type.IXFR, DClass.IN));
        SOARecord soa = zone.soa();
        query.addRecord(new SOARecord(zone.origin(), DClass.IN, 0, soa.getHost(), soa.getAdmin(), serial, 0, 0, 0, 0), Section.AUTHORITY);
        if (edns >= 0) {
            query.addRecord(new OPTRecord(edns, 0, 0), Section.ADDITIONAL);
        }
        return query;
    }

    private static Message udp(int port, Message query) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0, LOOPBACK)) {
            socket.setSoTimeout(3000);
            byte[] wire = query.toWire();
            socket.send(new DatagramPacket(wire, wire.length, LOOPBACK, port));
            DatagramPacket in = new DatagramPacket(new byte[65535], 65535);
            socket.receive(in);
            return new Message(Arrays.copyOf(in.getData(), in.getLength()));
        }
    }

    @Test
    void serialsCompareInRfc1982Arithmetic() {
        assertThat(ZoneTransfer.serialBefore(1, 2)).isTrue();
        assertThat(ZoneTransfer.serialBefore(2, 2)).isFalse();
        assertThat(ZoneTransfer.serialBefore(3, 2)).isFalse();
        assertThat(ZoneTransfer.serialBefore(0xFFFF_FFFFL, 0)).as("across the wrap").isTrue();
        assertThat(ZoneTransfer.serialBefore(0, 0xFFFF_FFFFL)).isFalse();
        assertThat(ZoneTransfer.serialBefore(2_000_000_000L, 4_000_000_000L)).isTrue();
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
        List<byte[]> messages = new ZoneTransfer(Set.of(LOOPBACK)).transfer(query, LOOPBACK, List.of(zone), TestZones.handler()).orElseThrow();
        assertThat(messages).hasSize(1);
        assertThat(new ZoneTransfer(Set.of(LOOPBACK)).transfer(query, addr("192.0.2.9"), List.of(zone), TestZones.handler())).isEmpty();
    }

    @Test
    void aLargeZoneFillsEachMessageUpToTheSize(@TempDir Path dir) throws Exception {
        StringBuilder zone = new StringBuilder(Files.readString(TestZones.EXAMPLE));
        for (int i = 0; i < 3000; i++) {
            zone.append("host-").append(i).append(" IN A 198.51.100.").append(i % 250 + 1).append('\n');
        }
        ZoneData data = ZoneLoader.load(new DnsConfig.Zone("example.test.", Files.writeString(dir.resolve("big.zone"), zone)));
        byte[] query = ResponderTest.query("example.test.", Type.AXFR, -1, false, false, 9);

        List<byte[]> messages = new ZoneTransfer(Set.of(LOOPBACK)).transfer(query, LOOPBACK, List.of(data), TestZones.handler()).orElseThrow();
        assertThat(messages).hasSizeGreaterThan(2);
        for (int i = 0; i < messages.size(); i++) {
            assertThat(messages.get(i).length).as("message %d", i).isLessThanOrEqualTo(ZoneTransfer.MESSAGE_SIZE);
            if (i < messages.size() - 1) {
                // Full: the next record would not have fitted (the zone's largest, a TXT, is under 512 bytes).
                assertThat(messages.get(i).length).as("message %d", i).isGreaterThan(ZoneTransfer.MESSAGE_SIZE - 512);
            }
        }
        List<Record> records = messages.stream().flatMap(m -> parse(m).getSection(Section.ANSWER).stream()).toList();
        List<Record> expected = data.rrsets().stream().flatMap(r -> r.rrs(false).stream()).toList();
        assertThat(records.getFirst()).isEqualTo(data.soa());
        assertThat(records.getLast()).isEqualTo(data.soa());
        assertThat(lines(records)).isEqualTo(lines(expected));
        assertThat(records).hasSize(expected.size() + 1);
    }

    private static Message parse(byte[] wire) {
        try {
            return new Message(wire);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aClientWithAKeyMustSignAndGetsEveryMessageSigned() throws Exception {
        ZoneData zone = ZoneLoader.load(new dev.webstack.common.config.DnsConfig.Zone("example.test.", TestZones.EXAMPLE));
        TSIG key = DnsOptions.tsig(new DnsConfig.TsigKey("xfr.example.test.", "hmac-sha256", "c2VjcmV0IHNoYXJlZCB3aXRoIHRoZSBzZWNvbmRhcnk="));
        TSIG other = DnsOptions.tsig(new DnsConfig.TsigKey("xfr.example.test.", "hmac-sha256", "YW5vdGhlciBzZWNyZXQ="));
        TSIG stranger = DnsOptions.tsig(new DnsConfig.TsigKey("someone.else.", "hmac-sha256", "YW5vdGhlciBzZWNyZXQ="));
        ZoneTransfer transfers = new ZoneTransfer(Set.of(LOOPBACK, addr("192.0.2.2")), Map.of(LOOPBACK, key));

        byte[] unsigned = ResponderTest.query("example.test.", Type.AXFR, -1, false, false, 9);
        assertThat(transfers.transfer(unsigned, LOOPBACK, List.of(zone), TestZones.handler())).as("unsigned: refused as a stranger").isEmpty();

        Message signedQuery = Message.newQuery(Record.newRecord(Name.fromConstantString("example.test."), Type.AXFR, DClass.IN));
        signedQuery.setTSIG(key, Rcode.NOERROR, null);
        byte[] query = signedQuery.toWire(Message.MAXLENGTH);
        List<byte[]> messages = transfers.transfer(query, LOOPBACK, List.of(zone), TestZones.handler()).orElseThrow();
        TSIG.StreamVerifier verifier = new TSIG.StreamVerifier(key, new Message(query).getTSIG());
        for (int i = 0; i < messages.size(); i++) {
            Message m = new Message(messages.get(i));
            assertThat(m.getTSIG()).as("message %d signed", i).isNotNull();
            assertThat(verifier.verify(m, messages.get(i), i == messages.size() - 1)).as("message %d's MAC", i).isEqualTo(Rcode.NOERROR);
        }

        Message badSig = Message.newQuery(Record.newRecord(Name.fromConstantString("example.test."), Type.AXFR, DClass.IN));
        badSig.setTSIG(other, Rcode.NOERROR, null);
        Message answer = new Message(transfers.transfer(badSig.toWire(Message.MAXLENGTH), LOOPBACK, List.of(zone), TestZones.handler()).orElseThrow().getFirst());
        assertThat(answer.getRcode()).isEqualTo(Rcode.NOTAUTH);
        assertThat(answer.getTSIG().getError()).as("the same key name, another secret").isEqualTo(Rcode.BADSIG);
        assertThat(answer.getSection(Section.ANSWER)).as("no record of the zone").isEmpty();

        Message badKey = Message.newQuery(Record.newRecord(Name.fromConstantString("example.test."), Type.AXFR, DClass.IN));
        badKey.setTSIG(stranger, Rcode.NOERROR, null);
        byte[] strangerQuery = badKey.toWire(Message.MAXLENGTH);
        assertThat(new Message(transfers.transfer(strangerQuery, LOOPBACK, List.of(zone), TestZones.handler()).orElseThrow().getFirst()).getTSIG().getError())
                .isEqualTo(Rcode.BADKEY);
        Message keyless = new Message(transfers.transfer(strangerQuery, addr("192.0.2.2"), List.of(zone), TestZones.handler()).orElseThrow().getFirst());
        assertThat(keyless.getRcode()).as("a signed AXFR from a client given no key").isEqualTo(Rcode.NOTAUTH);
        assertThat(keyless.getTSIG().getError()).isEqualTo(Rcode.BADKEY);
    }

    @Test
    void aReloadChangesWhoMayTransfer() throws Exception {
        DnsConfig closed = TestZones.config(new HostPort("127.0.0.1", 0));
        try (DnsServer server = DnsServer.start(closed)) {
            ZoneTransferIn refused = ZoneTransferIn.newAXFR(Name.fromConstantString("example.test."), "127.0.0.1", server.port(), null);
            assertThatThrownBy(refused::run).isInstanceOf(ZoneTransferException.class).hasMessageContaining("REFUSED");

            DnsConfig open = new DnsConfig(closed.listen(), closed.zones(), closed.udpPayload(), closed.rateLimit(), List.of("127.0.0.1"),
                    closed.notifyTargets(), closed.healthChecks());
            assertThat(server.reload(open).toString()).contains("dns.transfer-to, notify and tsig-keys applied");
            ZoneTransferIn axfr = ZoneTransferIn.newAXFR(Name.fromConstantString("example.test."), "127.0.0.1", server.port(), null);
            axfr.run();
            assertThat(axfr.getAXFR()).as("the zone, SOA first and last").hasSizeGreaterThan(2);

            assertThat(server.reload(closed).toString()).contains("applied");
            ZoneTransferIn again = ZoneTransferIn.newAXFR(Name.fromConstantString("example.test."), "127.0.0.1", server.port(), null);
            assertThatThrownBy(again::run).isInstanceOf(ZoneTransferException.class).hasMessageContaining("REFUSED");
        }
    }

    private static InetAddress addr(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
