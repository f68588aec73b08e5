package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static dev.webstack.dns.TestZones.section;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * {@code dns.listen} with several addresses (as NSD's {@code ip-address} lines): the real server
 * on loopback addresses, each answering over UDP from the address its query came to, and over TCP.
 */
class DnsListenTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Test
    void answersOnEveryListedAddressFromThatAddress() throws IOException {
        List<HostPort> listen = new ArrayList<>(List.of(new HostPort("127.0.0.1", 0), new HostPort("127.0.0.2", 0)));
        boolean ipv6 = ipv6Loopback();
        if (ipv6) {
            listen.add(new HostPort("::1", 0));
        }
        try (DnsServer server = DnsServer.start(withAddresses(listen))) {
            List<InetSocketAddress> addresses = server.addresses();
            assertThat(addresses).extracting(InetSocketAddress::getAddress)
                    .containsExactlyElementsOf(listen.stream().map(h -> h.toSocketAddress().getAddress()).toList());
            assertThat(addresses.get(0).getPort()).isEqualTo(server.port());
            int socketsPerAddress = Epoll.isAvailable() ? Runtime.getRuntime().availableProcessors() : 1;
            assertThat(server.udpChannels()).hasSize(listen.size() * socketsPerAddress);

            for (InetSocketAddress address : addresses) {
                // UDP from an unbound-to-the-server socket: the answer must come from the address
                // asked, or a resolver (which checks) drops it.
                InetAddress client = address.getAddress() instanceof Inet6Address
                        ? InetAddress.getByName("::1") : InetAddress.getByName("127.0.0.1");
                try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(client, 0))) {
                    socket.setSoTimeout((int) TIMEOUT.toMillis());
                    byte[] wire = query("www.foobar.com", Type.A).toWire();
                    socket.send(new DatagramPacket(wire, wire.length, address));
                    DatagramPacket packet = new DatagramPacket(new byte[65535], 65535);
                    socket.receive(packet);

                    assertThat(packet.getSocketAddress()).as("udp answer's source").isEqualTo(address);
                    Message answer = new Message(Arrays.copyOf(packet.getData(), packet.getLength()));
                    assertThat(answer.getRcode()).isEqualTo(Rcode.NOERROR);
                    assertThat(section(answer, Section.ANSWER)).as("udp on " + address)
                            .containsExactly("www.foobar.com. 300 CNAME foobar.com.", "foobar.com. 300 A 127.0.0.1");
                }
                SimpleResolver tcp = new SimpleResolver(address);
                tcp.setTCP(true);
                tcp.setTimeout(TIMEOUT);
                assertThat(section(tcp.send(query("foobar.com", Type.SOA)), Section.ANSWER)).as("tcp on " + address)
                        .singleElement().asString().startsWith("foobar.com. 300 SOA ns1.foobar.com. ");
            }
        }
    }

    @Test
    void anAddressThatCannotBeBoundLeavesTheOthersUnbound() throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        // 192.0.2.1 (TEST-NET-1) is no address of this host: binding it fails.
        DnsConfig config = withAddresses(List.of(new HostPort("127.0.0.1", port), new HostPort("192.0.2.1", port)));

        assertThatThrownBy(() -> DnsServer.start(config))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("udp 192.0.2.1:" + port);
        try (ServerSocket tcp = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"));
             DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
            assertThat(tcp.getLocalPort()).isEqualTo(port);
            assertThat(udp.getLocalPort()).isEqualTo(port);
        }
    }

    private static DnsConfig withAddresses(List<HostPort> addresses) {
        DnsConfig c = TestZones.config(addresses.get(0));
        return new DnsConfig(addresses, c.zones(), c.udpPayload(), c.rateLimit(), c.transferTo(), c.notifyTargets(), c.healthChecks(),
                c.tsig(), c.metrics(), c.udpReaders(), c.cpuAffinity(), c.tcpConnections(), "");
    }

    /** Whether this host has IPv6 on loopback (a container may not). */
    private static boolean ipv6Loopback() {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::1"), 0))) {
            return true;
        } catch (SocketException | java.net.UnknownHostException e) {
            return false;
        }
    }
}
