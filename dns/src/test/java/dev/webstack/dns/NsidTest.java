package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSIDOption;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** The server's identifier for a query that asks for it (RFC 5001), and for no other. */
class NsidTest {
    private static final byte[] NSID = "ns1.foobar.test".getBytes(StandardCharsets.US_ASCII);

    @Test
    void givenOnlyToAQueryThatAsksAndOnlyWhenSet() throws Exception {
        List<ZoneData> zones = ZoneLoader.loadAll(TestZones.config(new HostPort("127.0.0.1", 0)));
        Responder identified = new Responder(zones, 1232, NSID, true);
        Responder anonymous = new Responder(zones, 1232, true);

        for (QueryHandler.Transport transport : QueryHandler.Transport.values()) {
            Message asked = ask(identified, query(true), transport);
            assertThat(asked.getRcode()).isEqualTo(Rcode.NOERROR);
            assertThat(asked.getSection(Section.ANSWER)).as("the answer as ever").hasSize(2);
            List<EDNSOption> nsid = asked.getOPT().getOptions(EDNSOption.Code.NSID);
            assertThat(nsid).as(transport.name()).hasSize(1);
            byte[] wire = nsid.get(0).toWire(); // code, length, then the identifier
            assertThat(java.util.Arrays.copyOfRange(wire, 4, wire.length)).isEqualTo(NSID);
            assertThat(asked.getOPT().getPayloadSize()).isEqualTo(1232);

            Message notAsked = ask(identified, query(false), transport);
            assertThat(notAsked.getOPT().getOptions()).as("not asked: " + transport).isEmpty();
            assertThat(notAsked.getSection(Section.ANSWER)).hasSize(2);

            Message none = ask(anonymous, query(true), transport);
            assertThat(none.getOPT().getOptions()).as("none set: " + transport).isEmpty();
            assertThat(none.getSection(Section.ANSWER)).hasSize(2);
        }
    }

    @Test
    void aReloadGivesTheNewOne() throws Exception {
        DnsConfig c = TestZones.config(new HostPort("127.0.0.1", 0));
        try (DnsServer server = DnsServer.start(with(c, "ns1.foobar.test"))) {
            assertThat(nsidOf(server)).isEqualTo("ns1.foobar.test");
            assertThat(server.reload(with(c, "ns2.foobar.test")).toString()).contains("dns.nsid applied: ns2.foobar.test");
            assertThat(nsidOf(server)).isEqualTo("ns2.foobar.test");
            assertThat(server.reload(with(c, "")).toString()).contains("dns.nsid applied: none");
            assertThat(nsidOf(server)).isEmpty();
        }
    }

    private static DnsConfig with(DnsConfig c, String nsid) {
        return new DnsConfig(c.addresses(), c.zones(), c.udpPayload(), c.rateLimit(), c.transferTo(), c.notifyTargets(), c.healthChecks(),
                c.tsig(), c.metrics(), c.udpReaders(), c.cpuAffinity(), c.tcpConnections(), nsid);
    }

    /** The NSID the running server gives over UDP, as text; empty for none. */
    private static String nsidOf(DnsServer server) throws Exception {
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress("127.0.0.1", server.port()));
        resolver.setTimeout(Duration.ofSeconds(5));
        Message answer = resolver.send(query(true));
        List<EDNSOption> nsid = answer.getOPT().getOptions(EDNSOption.Code.NSID);
        if (nsid.isEmpty()) {
            return "";
        }
        byte[] wire = nsid.get(0).toWire();
        return new String(wire, 4, wire.length - 4, StandardCharsets.US_ASCII);
    }

    /** www.foobar.com A with EDNS, and with an empty NSID option when {@code nsid}. */
    private static Message query(boolean nsid) {
        Message q = TestZones.query("www.foobar.com", Type.A);
        q.addRecord(new OPTRecord(1232, 0, 0, 0, nsid ? List.of(new NSIDOption(new byte[0])) : List.of()), Section.ADDITIONAL);
        return q;
    }

    private static Message ask(Responder responder, Message query, QueryHandler.Transport transport) throws Exception {
        ByteBuf response = responder.respond(Unpooled.wrappedBuffer(query.toWire()), transport, PooledByteBufAllocator.DEFAULT);
        try {
            return new Message(ByteBufUtil.getBytes(response));
        } finally {
            response.release();
        }
    }
}
