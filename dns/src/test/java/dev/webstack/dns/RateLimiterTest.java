package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.HostPort;
import dev.webstack.dns.RateLimiter.Verdict;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** Response rate limiting: per client network and second, with slip; in memory with a fake clock, then on the wire. */
class RateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000);

    private static InetAddress ip(String address) throws IOException {
        return InetAddress.getByName(address);
    }

    private List<Verdict> check(RateLimiter limiter, String address, int times) throws IOException {
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            verdicts.add(limiter.check(ip(address)));
        }
        return verdicts;
    }

    @Test
    void answersUpToTheRateThenSlipsEverySecondOneAndDropsTheRest() throws IOException {
        RateLimiter limiter = new RateLimiter(new RateLimit(3, 2, 24, 56), now::get);

        assertThat(check(limiter, "192.0.2.1", 7)).containsExactly(
                Verdict.SEND, Verdict.SEND, Verdict.SEND, Verdict.DROP, Verdict.SLIP, Verdict.DROP, Verdict.SLIP);
    }

    @Test
    void theBudgetIsPerSlash24AndPerSecond() throws IOException {
        RateLimiter limiter = new RateLimiter(new RateLimit(2, 0, 24, 56), now::get);

        assertThat(check(limiter, "192.0.2.1", 1)).containsExactly(Verdict.SEND);
        assertThat(check(limiter, "192.0.2.200", 2)).as("same /24").containsExactly(Verdict.SEND, Verdict.DROP);
        assertThat(check(limiter, "192.0.3.1", 2)).as("another /24").containsExactly(Verdict.SEND, Verdict.SEND);
        now.addAndGet(1000);
        assertThat(check(limiter, "192.0.2.1", 2)).as("the next second").containsExactly(Verdict.SEND, Verdict.SEND);
    }

    @Test
    void ipv6ClientsAreCountedPerSlash56() throws IOException {
        RateLimiter limiter = new RateLimiter(new RateLimit(1, 0, 24, 56), now::get);

        assertThat(check(limiter, "2001:db8:0:100::1", 1)).containsExactly(Verdict.SEND);
        assertThat(check(limiter, "2001:db8:0:1ff::2", 1)).as("same /56").containsExactly(Verdict.DROP);
        assertThat(check(limiter, "2001:db8:0:200::1", 1)).as("another /56").containsExactly(Verdict.SEND);
    }

    @Test
    void offSendsEverything() throws IOException {
        assertThat(check(new RateLimiter(RateLimit.OFF, now::get), "192.0.2.1", 1000)).containsOnly(Verdict.SEND);
    }

    @Test
    void defaultsAreNsds() {
        assertThat(RateLimit.nsdDefaults()).isEqualTo(new RateLimit(200, 2, 24, 56));
        assertThat(RateLimit.nsdDefaults().enabled()).isTrue();
    }

    @Test
    void settingsAreChecked() {
        assertThatThrownBy(() -> new RateLimit(-1, 2, 24, 56)).hasMessage("responsesPerSecond: -1 (expected: >= 0, 0 = off)");
        assertThatThrownBy(() -> new RateLimit(1, 2, 33, 56)).hasMessage("ipv4PrefixLength: 33 (expected: 8-32)");
    }

    @Test
    void theSlipAnswerIsTheQuestionWithTc() {
        Responder responder = new Responder(ZoneLoader.loadAll(TestZones.config(new HostPort("127.0.0.1", 0))), 1232);
        byte[] query = ResponderTest.query("WWW.foobar.com.", Type.A, 1232, true, false, 77);

        Message slip = TestZones.parse(ByteBufUtil.getBytes(responder.truncated(Unpooled.wrappedBuffer(query), UnpooledByteBufAllocator.DEFAULT)));

        assertThat(slip.getHeader().getID()).isEqualTo(77);
        assertThat(slip.getHeader().getFlag(Flags.QR)).isTrue();
        assertThat(slip.getHeader().getFlag(Flags.TC)).isTrue();
        assertThat(slip.getHeader().getFlag(Flags.RD)).isTrue();
        assertThat(slip.getQuestion().getName().toString()).isEqualTo("WWW.foobar.com.");
        assertThat(slip.getSection(Section.ANSWER)).isEmpty();
        assertThat(slip.getSection(Section.ADDITIONAL)).isEmpty();
    }

    @Test
    void onTheWireLimitedUdpAnswersComeTruncatedAndTcpIsNotLimited() throws IOException {
        try (DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(new RateLimit(1, 1, 24, 56)));
             DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(5000);
            byte[] query = ResponderTest.query("www.foobar.com.", Type.A, -1, true, false, 5);
            int full = 0;
            int truncated = 0;
            // Ten queries back to back span at most two seconds: at most two full answers, the others TC.
            for (int i = 0; i < 10; i++) {
                socket.send(new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), server.port()));
                DatagramPacket response = new DatagramPacket(new byte[512], 512);
                socket.receive(response);
                Message m = TestZones.parse(java.util.Arrays.copyOf(response.getData(), response.getLength()));
                if (m.getHeader().getFlag(Flags.TC)) {
                    truncated++;
                } else {
                    full++;
                }
            }
            assertThat(full).as("full answers").isBetween(1, 2);
            assertThat(truncated).as("slipped answers").isBetween(8, 9);

            SimpleResolver tcp = new SimpleResolver(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
            tcp.setTCP(true);
            for (int i = 0; i < 5; i++) {
                assertThat(tcp.send(TestZones.query("www.foobar.com", Type.A)).getSection(Section.ANSWER)).as("tcp " + i).hasSize(2);
            }
        }
    }
}
