package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.process.LibC;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.Epoll;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Type;

/**
 * Each UDP socket is read by two event loops (DnsServer.readFromNeighbours): a query is answered
 * while the loop that owns the socket it landed on is busy. With {@code dns.udp-readers: own},
 * each by its own loop only.
 */
class UdpReadersTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void queriesAreAnsweredWhileOneEventLoopIsBusy() throws Exception {
        assumeThat(Epoll.isAvailable() && LibC.available()).as("epoll and JNA").isTrue();
        DnsServer server = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)));
        try {
            Set<EventLoop> loops = server.udpChannels().stream().map(Channel::eventLoop).collect(Collectors.toSet());
            assumeThat(loops).as("event loops").hasSizeGreaterThan(1);
            // Each socket has its own reader and the next loop's.
            assertThat(server.udpChannels()).hasSize(2 * loops.size());

            EventLoop busy = server.udpChannels().get(0).eventLoop();
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            busy.execute(() -> {
                blocked.countDown();
                try {
                    release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
            try {
                // The datagrams are spread over the sockets at random: about half land on the busy
                // loop's socket, and with one reader per socket would wait for it.
                List<Integer> unanswered = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    if (!answeredWithin(server.port(), 1_000 + i, 500)) {
                        unanswered.add(i);
                    }
                }
                assertThat(unanswered).as("queries not answered within 500 ms").isEmpty();
            } finally {
                release.countDown();
            }
        } finally {
            server.close();
        }
    }

    @Test
    void withOwnReadersEachSocketIsReadByItsOwnEventLoopOnly() throws Exception {
        assumeThat(Epoll.isAvailable()).as("epoll").isTrue();
        DnsConfig shared = TestZones.config(new HostPort("127.0.0.1", 0));
        DnsConfig own = new DnsConfig(shared.listen(), shared.zones(), shared.udpPayload(), shared.rateLimit(), shared.transferTo(),
                shared.notifyTargets(), shared.healthChecks(), shared.tsig(), shared.metrics(), DnsConfig.UdpReaders.OWN);
        DnsServer server = DnsServer.start(own);
        try {
            List<EventLoop> loops = server.udpChannels().stream().map(Channel::eventLoop).toList();
            assertThat(Set.copyOf(loops)).as("one socket per event loop, each on its own").hasSameSizeAs(loops);
            List<Integer> unanswered = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                if (!answeredWithin(server.port(), 2_000 + i, 2_000)) {
                    unanswered.add(i);
                }
            }
            assertThat(unanswered).as("queries not answered").isEmpty();
            // A reload cannot change it: the sockets stay as they are, and the outcome says so.
            ZoneReload reload = server.reload(shared);
            assertThat(reload.notes()).anySatisfy(n -> assertThat(n).contains("dns.udp-readers shared ignored"));
            assertThat(server.udpChannels()).hasSameSizeAs(loops);
        } finally {
            server.close();
        }
    }

    private static boolean answeredWithin(int port, int id, int millis) throws Exception {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            socket.setSoTimeout(millis);
            Message q = query("www.foobar.com", Type.A);
            q.getHeader().setID(id);
            byte[] wire = q.toWire();
            socket.send(new DatagramPacket(wire, wire.length, new InetSocketAddress(LOOPBACK, port)));
            DatagramPacket answer = new DatagramPacket(new byte[1232], 1232);
            try {
                socket.receive(answer);
            } catch (SocketTimeoutException e) {
                return false;
            }
            return new Message(answer.getData()).getHeader().getID() == id;
        }
    }
}
