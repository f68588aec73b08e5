package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;
import org.xbill.DNS.ZoneTransferIn;

/** {@code GET /metrics} at {@code dns.metrics}: what the tier answered, counted by transport, rcode and kind. */
class DnsMetricsTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void countsQueriesAnswersByRcodeTransfersAndTheSerialServed() throws Exception {
        DnsConfig base = TestZones.config(new HostPort("127.0.0.1", 0));
        DnsConfig config = new DnsConfig(base.listen(), base.zones(), base.udpPayload(), base.rateLimit(), base.transferTo(),
                base.notifyTargets(), base.healthChecks(), base.tsig(), Optional.of(new HostPort("127.0.0.1", 0)));
        try (DnsServer server = DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)))) {
            int port = server.port();
            udp(port, ResponderTest.query("www.foobar.com.", Type.A, -1, false, false, 1), true);
            udp(port, ResponderTest.query("WWW.foobar.com.", Type.AAAA, 1232, false, false, 2), true);
            udp(port, ResponderTest.query("nope.foobar.com.", Type.A, -1, false, false, 3), true);
            udp(port, ResponderTest.query("www.example.org.", Type.A, -1, false, false, 4), true);
            udp(port, new byte[] {1, 2, 3}, false); // not a DNS message: silence
            tcp(port, ResponderTest.query("foobar.com.", Type.MX, -1, false, false, 5));
            ZoneTransferIn axfr = ZoneTransferIn.newAXFR(Name.fromConstantString("foobar.com."), "127.0.0.1", port, null);
            axfr.run();

            InetSocketAddress at = server.metricsAddress().orElseThrow();
            HttpResponse<String> res = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            Map<String, Double> m = samples(res.body());
            assertThat(m).as(res.body())
                    .containsEntry("webstack_dns_queries_total{transport=\"udp\"}", 5.0)
                    // The MX query and the AXFR, whose first message is NOERROR.
                    .containsEntry("webstack_dns_queries_total{transport=\"tcp\"}", 2.0)
                    .containsEntry("webstack_dns_answers_total{rcode=\"NOERROR\"}", 4.0)
                    .containsEntry("webstack_dns_answers_total{rcode=\"NXDOMAIN\"}", 1.0)
                    .containsEntry("webstack_dns_answers_total{rcode=\"REFUSED\"}", 1.0)
                    .containsEntry("webstack_dns_unanswered_total", 1.0)
                    .containsEntry("webstack_dns_answers_truncated_total", 0.0)
                    .containsEntry("webstack_dns_rate_limited_total{action=\"drop\"}", 0.0)
                    .containsEntry("webstack_dns_transfers_total{type=\"AXFR\"}", 1.0)
                    .containsEntry("webstack_dns_transfers_total{type=\"IXFR\"}", 0.0)
                    .containsEntry("webstack_dns_tcp_refused_total", 0.0)
                    .containsKey("webstack_dns_tcp_connections");
            assertThat(m.get("webstack_dns_tcp_connections")).as("the MX query's and the AXFR's, if not closed yet").isBetween(0.0, 2.0);
            long serial = ZoneLoader.load(new DnsConfig.Zone("foobar.com.", TestZones.FOOBAR)).soa().getSerial();
            assertThat(m.get("webstack_dns_zone_serial{zone=\"foobar.com.\"}")).isEqualTo((double) serial);
            assertThat(m.keySet()).as("JVM meters").anyMatch(k -> k.startsWith("jvm_memory_used_bytes{area=\"heap\""));
        }
    }

    private static void udp(int port, byte[] query, boolean answered) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0, LOOPBACK)) {
            socket.setSoTimeout(answered ? 3000 : 300);
            socket.send(new DatagramPacket(query, query.length, LOOPBACK, port));
            DatagramPacket in = new DatagramPacket(new byte[65535], 65535);
            try {
                socket.receive(in);
                assertThat(answered).as("an answer came").isTrue();
            } catch (java.net.SocketTimeoutException e) {
                assertThat(answered).as("no answer came").isFalse();
            }
        }
    }

    private static void tcp(int port, byte[] query) throws IOException {
        try (Socket s = new Socket(LOOPBACK, port)) {
            s.setSoTimeout(3000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeShort(query.length);
            out.write(query);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            in.readFully(new byte[in.readUnsignedShort()]);
        }
    }

    /** Sample lines ({@code name{labels} value}) by name and labels; comments skipped. */
    private static Map<String, Double> samples(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int space = line.lastIndexOf(' ');
                out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return out;
    }
}
