package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static dev.webstack.dns.TestZones.section;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.ConfigException;
import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.health.HealthCheck;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** The real server on a loopback port chosen by the system, queried over UDP and TCP. */
class DnsServerTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private static DnsServer server;

    @BeforeAll
    static void start() {
        server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static SimpleResolver resolver(boolean tcp) {
        SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(LOOPBACK, server.port()));
        resolver.setTCP(tcp);
        resolver.setTimeout(TIMEOUT);
        return resolver;
    }

    @Test
    void answersWwwOverUdpAndTcp() throws IOException {
        for (boolean tcp : new boolean[] {false, true}) {
            Message r = resolver(tcp).send(query("www.foobar.com", Type.A));

            assertThat(r.getRcode()).as("tcp=" + tcp).isEqualTo(Rcode.NOERROR);
            assertThat(r.getHeader().getFlag(Flags.AA)).as("AA, tcp=" + tcp).isTrue();
            assertThat(section(r, Section.ANSWER)).as("tcp=" + tcp).containsExactly(
                    "www.foobar.com. 300 CNAME foobar.com.",
                    "foobar.com. 300 A 127.0.0.1");
        }
    }

    @Test
    void theAnswersArePrecompiledAfterTheServerListens() throws Exception {
        // The start renders them on a thread of its own: the slow path answered until then.
        assertThat(TestZones.awaitPrecompiled(server, TIMEOUT)).as("answers precompiled within " + TIMEOUT).isGreaterThan(50);
        assertThat(section(resolver(false).send(query("www.foobar.com", Type.A)), Section.ANSWER)).containsExactly(
                "www.foobar.com. 300 CNAME foobar.com.",
                "foobar.com. 300 A 127.0.0.1");
    }

    @Test
    void answersNxdomainNodataAndRefused() throws IOException {
        SimpleResolver udp = resolver(false);

        Message nx = udp.send(query("nope.foobar.com", Type.A));
        Message nodata = udp.send(query("www.foobar.com", Type.AAAA));
        Message refused = udp.send(query("www.example.org", Type.A));

        assertThat(nx.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(section(nx, Section.AUTHORITY)).singleElement().asString().startsWith("foobar.com. 300 SOA ");
        assertThat(nodata.getRcode()).isEqualTo(Rcode.NOERROR);
        // www is a CNAME: the AAAA question is answered with the CNAME, then NODATA at the apex.
        assertThat(section(nodata, Section.ANSWER)).containsExactly("www.foobar.com. 300 CNAME foobar.com.");
        assertThat(section(nodata, Section.AUTHORITY)).singleElement().asString().contains(" SOA ");
        assertThat(refused.getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void echoesEdns() throws IOException {
        Message r = resolver(false).send(query("foobar.com", Type.SOA)); // SimpleResolver sends EDNS 0, 1280 bytes

        assertThat(r.getOPT()).isNotNull();
        assertThat(r.getOPT().getPayloadSize()).isEqualTo(1232);
    }

    @Test
    void truncatesOverUdpAndAnswersInFullOverTcp() throws IOException {
        SimpleResolver udp = resolver(false);
        udp.setIgnoreTruncation(true);

        Message truncated = udp.send(query("big.example.test", Type.TXT));
        Message full = resolver(true).send(query("big.example.test", Type.TXT));

        assertThat(truncated.getHeader().getFlag(Flags.TC)).as("TC over UDP").isTrue();
        assertThat(section(truncated, Section.ANSWER)).isEmpty();
        assertThat(full.getHeader().getFlag(Flags.TC)).as("TC over TCP").isFalse();
        assertThat(section(full, Section.ANSWER)).hasSize(7);
    }

    @Test
    void answersSeveralQueriesSentAtOnceOnOneTcpConnection() throws IOException {
        try (Socket socket = new Socket(LOOPBACK, server.port())) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            Message first = query("foobar.com", Type.A);
            Message second = query("mail.foobar.com", Type.A);
            for (Message q : List.of(first, second)) {
                byte[] wire = q.toWire();
                out.writeShort(wire.length);
                out.write(wire);
            }
            out.flush();

            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (Message q : List.of(first, second)) {
                byte[] wire = new byte[in.readUnsignedShort()];
                in.readFully(wire);
                Message r = new Message(wire);
                assertThat(r.getHeader().getID()).isEqualTo(q.getHeader().getID());
                assertThat(section(r, Section.ANSWER)).singleElement().asString().endsWith(" A 127.0.0.1");
            }
        }
    }

    @Test
    void survivesMalformedDatagrams() throws IOException {
        Random random = new Random(7);
        byte[] randomBytes = new byte[40];
        random.nextBytes(randomBytes);
        randomBytes[2] &= 0x07; // QR and opcode 0: a query the server must parse, not ignore or NOTIMP
        List<byte[]> garbage = List.of(new byte[] {1, 2, 3, 4, 5}, randomBytes, Garbage.compressionLoop(0xBEEF));

        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            InetSocketAddress target = new InetSocketAddress(LOOPBACK, server.port());
            for (byte[] packet : garbage) {
                Message good = query("foobar.com", Type.A);
                // An ID no garbage packet starts with, so that its answer cannot be taken for the good one's.
                int goodId = 1;
                while (startsWithId(garbage, goodId)) {
                    goodId++;
                }
                good.getHeader().setID(goodId);
                socket.send(new DatagramPacket(packet, packet.length, target));
                byte[] wire = good.toWire();
                socket.send(new DatagramPacket(wire, wire.length, target));

                // The server spreads datagrams over its sockets at random (DatagramSpread): an answer
                // to garbage, this round's or an earlier one's, may come before or after the good one.
                Message reply = receive(socket);
                while (reply.getHeader().getID() != goodId) {
                    assertThat(reply.getRcode()).as("answer to garbage").isEqualTo(Rcode.FORMERR);
                    reply = receive(socket);
                }
                assertThat(reply.getHeader().getID()).isEqualTo(good.getHeader().getID());
                assertThat(section(reply, Section.ANSWER)).containsExactly("foobar.com. 300 A 127.0.0.1");
            }
        }
    }

    private static boolean startsWithId(List<byte[]> packets, int id) {
        return packets.stream().anyMatch(p -> p.length >= 2 && ((p[0] & 0xff) << 8 | (p[1] & 0xff)) == id);
    }

    @Test
    void compressionLoopIsFormerrOnTheWire() throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            byte[] packet = Garbage.compressionLoop(0xCAFE);
            socket.send(new DatagramPacket(packet, packet.length, new InetSocketAddress(LOOPBACK, server.port())));

            Message reply = receive(socket);

            assertThat(reply.getHeader().getID()).isEqualTo(0xCAFE);
            assertThat(reply.getRcode()).isEqualTo(Rcode.FORMERR);
        }
    }

    @Test
    void healthCheckIsHealthyForAServedZoneOnly() {
        HostPort address = new HostPort("127.0.0.1", server.port());

        HealthCheck.Result served = new DnsHealthCheck(address, "foobar.com").check(TIMEOUT);
        HealthCheck.Result notServed = new DnsHealthCheck(address, "example.org").check(TIMEOUT);

        assertThat(served.healthy()).as(served.detail()).isTrue();
        assertThat(served.detail()).contains("NOERROR");
        assertThat(notServed.healthy()).as(notServed.detail()).isFalse();
        assertThat(notServed.detail()).contains("REFUSED");
    }

    @Test
    void healthCheckFailsWhenNothingListens() throws IOException {
        HostPort nobody = new HostPort("127.0.0.1", freePort());

        HealthCheck.Result result = new DnsHealthCheck(nobody, "foobar.com").check(Duration.ofSeconds(1));

        assertThat(result.healthy()).as(result.detail()).isFalse();
        assertThat(result.detail()).startsWith("SOA foobar.com @127.0.0.1:" + nobody.port() + ": ");
    }

    @Test
    void aBadZoneFileStartsNothing() throws IOException {
        int port = freePort();
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", port),
                List.of(new DnsConfig.Zone("foobar.com.", Path.of("src/test/resources/zones/missing.zone"))), 1232);

        assertThatThrownBy(() -> DnsServer.start(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("missing.zone");
        assertPortIsFree(port);
    }

    @Test
    void aTakenTcpPortLeavesUdpFreeAgain() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            int port = taken.getLocalPort();

            assertThatThrownBy(() -> DnsServer.start(TestZones.config(new HostPort("127.0.0.1", port))))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("tcp 127.0.0.1:" + port);
            new DatagramSocket(new InetSocketAddress(LOOPBACK, port)).close();
        }
    }

    @Test
    void closeReleasesBothPorts() throws IOException {
        DnsServer other = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)));
        int port = other.port();
        assertThat(resolver(false).send(query("foobar.com", Type.A)).getRcode()).isEqualTo(Rcode.NOERROR);

        other.close();
        other.close(); // a second close does nothing

        assertPortIsFree(port);
    }

    private static Message receive(DatagramSocket socket) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[65535], 65535);
        socket.receive(packet);
        return new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    private static void assertPortIsFree(int port) throws IOException {
        try (ServerSocket tcp = new ServerSocket(port, 1, LOOPBACK);
             DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
            assertThat(tcp.getLocalPort()).isEqualTo(port);
            assertThat(udp.getLocalPort()).isEqualTo(port);
        }
    }
}
