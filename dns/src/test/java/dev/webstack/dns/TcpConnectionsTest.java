package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/** {@code dns.tcp-connections}: the real server on loopback, with a bound of two connections open at once. */
class TcpConnectionsTest {

    @Test
    void aConnectionOverTheBoundIsClosedAndTheOthersAreServed() throws Exception {
        DnsConfig c = TestZones.config(new HostPort("127.0.0.1", 0));
        DnsConfig two = new DnsConfig(c.addresses(), c.zones(), c.udpPayload(), c.rateLimit(), c.transferTo(), c.notifyTargets(),
                c.healthChecks(), c.tsig(), c.metrics(), c.udpReaders(), c.cpuAffinity(), 2, "");
        try (DnsServer server = DnsServer.start(two)) {
            InetSocketAddress address = server.addresses().getFirst();
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    Socket s = connect(address);
                    open.add(s);
                    assertThat(ask(s).getRcode()).as("connection " + i).isEqualTo(Rcode.NOERROR);
                }
                try (Socket third = connect(address)) {
                    // The kernel accepted it; the server closes it at once, unanswered.
                    assertThat(third.getInputStream().read()).isEqualTo(-1);
                }
                assertThat(server.tcpConnections().refused()).isEqualTo(1);
                assertThat(ask(open.get(0)).getRcode()).as("the first two are still served").isEqualTo(Rcode.NOERROR);

                open.remove(0).close();
                awaitOpen(server, 1);
                try (Socket again = connect(address)) {
                    assertThat(ask(again).getRcode()).as("room again after one closed").isEqualTo(Rcode.NOERROR);
                }

                ZoneReload reload = server.reload(new DnsConfig(two.addresses(), two.zones(), two.udpPayload(), two.rateLimit(),
                        two.transferTo(), two.notifyTargets(), two.healthChecks(), two.tsig(), two.metrics(), two.udpReaders(),
                        two.cpuAffinity(), 3, ""));
                assertThat(reload.toString()).contains("dns.tcp-connections applied: 3");
                awaitOpen(server, 1);
                try (Socket second = connect(address); Socket third = connect(address)) {
                    assertThat(ask(second).getRcode()).isEqualTo(Rcode.NOERROR);
                    assertThat(ask(third).getRcode()).as("three now").isEqualTo(Rcode.NOERROR);
                }
                assertThat(server.tcpConnections().refused()).isEqualTo(1);
            } finally {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, 5_000);
        s.setSoTimeout(5_000);
        return s;
    }

    /** One query over {@code s}, 2-byte framed (RFC 1035 section 4.2.2), and its answer. */
    private static Message ask(Socket s) throws IOException {
        byte[] wire = query("www.foobar.com", Type.A).toWire();
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeShort(wire.length);
        out.write(wire);
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] answer = new byte[in.readUnsignedShort()];
        in.readFully(answer);
        return new Message(answer);
    }

    private static void awaitOpen(DnsServer server, int open) throws InterruptedException, SocketTimeoutException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.tcpConnections().open() != open) {
            if (System.nanoTime() > deadline) {
                throw new SocketTimeoutException("open connections: " + server.tcpConnections().open() + ", expected " + open);
            }
            Thread.sleep(5);
        }
    }
}
