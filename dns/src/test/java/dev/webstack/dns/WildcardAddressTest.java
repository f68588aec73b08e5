package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Type;

/**
 * A server bound to the wildcard address answers each UDP query from the address the query came
 * to, on a host with several addresses (where the route would pick another source, and the client
 * would drop the answer). The wildcard must not listen on this machine's interfaces, so the server
 * runs in a network namespace of its own ({@code unshare --net}, as root), with addresses added to
 * its loopback interface; {@link #main} is what runs there.
 */
class WildcardAddressTest {
    /** Addresses of the namespace's loopback interface besides 127.0.0.1 and ::1, each asked once. */
    private static final List<String> ASKED = List.of("127.0.0.5", "10.53.0.2", "fd00::5");

    @Test
    void answersFromTheAddressAskedOnAWildcardSocket() throws Exception {
        assumeTrue(UdpBatchHandle.available(), "the batched datagram paths (io_uring or epoll, JNA) answer from the address asked");
        assumeTrue(namespaces(), "needs unshare --net (util-linux) and the right to use it (root)");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String script = "ip link set lo up && ip addr add 10.53.0.2/32 dev lo && ip -6 addr add fd00::5/128 dev lo && exec \""
                + java + "\" -cp \"$CP\" " + WildcardAddressTest.class.getName();
        ProcessBuilder builder = new ProcessBuilder("unshare", "--net", "--", "sh", "-c", script).redirectErrorStream(true);
        builder.environment().put("CP", System.getProperty("java.class.path"));
        Process probe = builder.start();
        byte[] out = probe.getInputStream().readAllBytes();
        assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(out, StandardCharsets.UTF_8);
        assertThat(probe.exitValue()).as(output).isZero();

        List<String> answers = output.lines().filter(l -> l.startsWith("asked ")).toList();
        // On each transport two servers: 0.0.0.0 and [::] (the IPv6 socket IPv6 only), then [::] alone (IPv4 too).
        assertThat(answers).as(output).hasSize(2 * ASKED.size() * UdpHandlesTest.handleTransports().size());
        for (String line : answers) {
            String[] f = line.split(" ");
            assertThat(f[3]).as(line).isEqualTo(f[1]); // "asked A from B rcode": B is A
            assertThat(f[4]).as(line).isEqualTo("NOERROR");
        }
    }

    /** Runs in the namespace: the servers, and a query to each address; prints "asked ADDRESS from SOURCE RCODE". */
    public static void main(String[] args) throws Exception {
        List<List<HostPort>> servers = List.of(
                List.of(new HostPort("0.0.0.0", 0), new HostPort("::", 0)),
                List.of(new HostPort("::", 0)));
        for (DnsTransport transport : UdpHandlesTest.handleTransports()) {
            for (List<HostPort> listen : servers) {
                DnsConfig c = TestZones.config(listen.get(0));
                DnsConfig config = new DnsConfig(listen, c.zones(), c.udpPayload(), c.rateLimit(), c.transferTo(), c.notifyTargets(),
                        c.healthChecks(), c.tsig(), c.metrics(), c.udpReaders(), c.cpuAffinity(), c.tcpConnections(), "");
                try (DnsServer server = DnsServer.start(config, DnsOptions.from(config), transport, true)) {
                    for (String destination : ASKED) {
                        InetAddress to = InetAddress.getByName(destination);
                        int port = server.addresses().get(to.getAddress().length == 4 ? 0 : listen.size() - 1).getPort();
                        System.out.println(ask(new InetSocketAddress(to, port)) + " " + transport);
                    }
                }
            }
        }
        System.exit(0); // the servers' threads are stopped; nothing else to wait for
    }

    /** One query to {@code server} from the namespace's first address of its family, from an unconnected socket. */
    private static String ask(InetSocketAddress server) throws IOException {
        InetAddress from = InetAddress.getByName(server.getAddress().getAddress().length == 4 ? "127.0.0.1" : "::1");
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(from, 0))) {
            socket.setSoTimeout(3_000);
            byte[] wire = query("www.foobar.com", Type.A).toWire();
            socket.send(new DatagramPacket(wire, wire.length, server));
            DatagramPacket packet = new DatagramPacket(new byte[4096], 4096);
            socket.receive(packet);
            Message answer = new Message(Arrays.copyOf(packet.getData(), packet.getLength()));
            return "asked " + server.getAddress().getHostAddress() + " from " + packet.getAddress().getHostAddress() + " "
                    + org.xbill.DNS.Rcode.string(answer.getRcode());
        }
    }

    private static boolean namespaces() {
        try {
            Process p = new ProcessBuilder("unshare", "--net", "--", "true").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
