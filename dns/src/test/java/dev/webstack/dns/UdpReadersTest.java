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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xbill.DNS.Message;
import org.xbill.DNS.Type;

/**
 * Each UDP socket is read by two event loops (DnsServer.readInBatches): a query is answered
 * while the loop that owns the socket it landed on is busy. With {@code dns.udp-readers: own},
 * each by its own loop only. With {@code dns.cpu-affinity} (the default) each loop runs on a CPU
 * of its own, and a query goes to the socket whose loop runs on the CPU after the sender's (on
 * loopback the CPU that delivers a datagram is the sender's).
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
            assumeThat(CpuAffinity.current()).as("cpus").hasSizeGreaterThanOrEqualTo(loops.size());
            // Each socket has its own reader and the next loop's.
            assertThat(server.udpReaders()).hasSize(2 * loops.size()).allSatisfy(r -> assertThat(r.batched()).isTrue());
            assertThat(server.udpReaders().stream().map(UdpReader::loop).distinct()).hasSameSizeAs(loops);

            EventLoop busy = server.udpChannels().get(0).eventLoop();
            // Sent from the CPU before the busy loop's, each query lands on the busy loop's socket;
            // with one reader per socket it would wait for that loop.
            int[] cpus = loopCpus(server);
            List<Integer> unanswered = whileBlocked(busy, () -> onCpu(cpus[cpus.length - 1], () -> unanswered(server.port(), 1_000, 24, 500)));
            assertThat(unanswered).as("queries not answered within 500 ms").isEmpty();
        } finally {
            server.close();
        }
    }

    @Test
    void withOwnReadersEachSocketIsReadByItsOwnEventLoopOnly() throws Exception {
        assumeThat(Epoll.isAvailable()).as("epoll").isTrue();
        DnsConfig shared = TestZones.config(new HostPort("127.0.0.1", 0));
        DnsServer server = DnsServer.start(with(shared, DnsConfig.UdpReaders.OWN, shared.cpuAffinity()));
        try {
            List<EventLoop> loops = server.udpChannels().stream().map(Channel::eventLoop).toList();
            assertThat(Set.copyOf(loops)).as("one socket per event loop, each on its own").hasSameSizeAs(loops);
            assertThat(unanswered(server.port(), 2_000, 24, 2_000)).as("queries not answered").isEmpty();
            // A reload cannot change it: the sockets stay as they are, and the outcome says so.
            ZoneReload reload = server.reload(shared);
            assertThat(reload.notes()).anySatisfy(n -> assertThat(n).contains("dns.udp-readers shared ignored"));
            assertThat(server.udpReaders()).hasSameSizeAs(loops);
        } finally {
            server.close();
        }
    }

    @Test
    void eachEventLoopRunsOnACpuOfItsOwnUnlessSwitchedOff() throws Exception {
        assumeThat(Epoll.isAvailable() && LibC.available()).as("epoll and JNA").isTrue();
        int[] allowed = CpuAffinity.current();
        assumeThat(Runtime.getRuntime().availableProcessors()).as("cpus").isGreaterThan(1).isLessThanOrEqualTo(allowed.length);
        DnsConfig on = TestZones.config(new HostPort("127.0.0.1", 0));
        assertThat(on.cpuAffinity()).as("the default").isTrue();
        DnsServer server = DnsServer.start(on);
        try {
            List<int[]> cpus = affinities(server);
            assertThat(cpus).as("one cpu per loop").allSatisfy(c -> assertThat(c).hasSize(1));
            assertThat(cpus.stream().map(c -> c[0]).toList()).as("cpus of the loops, in the order of the sockets")
                    .containsExactlyElementsOf(java.util.stream.IntStream.of(allowed).limit(cpus.size()).boxed().toList());
            ZoneReload reload = server.reload(with(on, on.udpReaders(), false));
            assertThat(reload.notes()).anySatisfy(n -> assertThat(n).contains("dns.cpu-affinity off ignored"));
        } finally {
            server.close();
        }
        server = DnsServer.start(with(on, on.udpReaders(), false));
        try {
            assertThat(affinities(server)).as("every loop may run on every cpu").allSatisfy(c -> assertThat(c).isEqualTo(allowed));
            assertThat(unanswered(server.port(), 3_000, 8, 2_000)).isEmpty();
        } finally {
            server.close();
        }
    }

    @Test
    void aQueryIsReadOnTheCpuAfterTheSenders() throws Exception {
        assumeThat(Epoll.isAvailable() && LibC.available()).as("epoll and JNA").isTrue();
        assumeThat(Runtime.getRuntime().availableProcessors()).as("cpus").isGreaterThan(1)
                .isLessThanOrEqualTo(CpuAffinity.current().length);
        DnsConfig shared = TestZones.config(new HostPort("127.0.0.1", 0));
        // One reader per socket, so that a blocked loop shows which socket a query landed on.
        DnsServer server = DnsServer.start(with(shared, DnsConfig.UdpReaders.OWN, true));
        try {
            int[] cpus = loopCpus(server);
            List<Channel> sockets = server.udpChannels();
            // From the first loop's CPU: the second socket's loop reads it. Blocked, the query waits;
            // the first loop blocked, the query is answered.
            assertThat(whileBlocked(sockets.get(1).eventLoop(), () -> onCpu(cpus[0], () -> unanswered(server.port(), 4_000, 4, 300))))
                    .as("queries answered while the loop after the sender's cpu was blocked").hasSize(4);
            assertThat(whileBlocked(sockets.get(0).eventLoop(), () -> onCpu(cpus[0], () -> unanswered(server.port(), 4_100, 8, 2_000))))
                    .as("queries not answered while the loop on the sender's cpu was blocked").isEmpty();
        } finally {
            server.close();
        }
    }

    /** Every UDP path: {@link UdpRingHandle}, {@link UdpBatchHandle}, and Netty's channel (where JNA is missing). */
    @ParameterizedTest(name = "{0} batched {1}")
    @CsvSource({"IO_URING, true", "EPOLL, true", "EPOLL, false"})
    void aBurstQueuedBehindLoneQueriesIsAnsweredWhole(DnsTransport transport, boolean batched) throws Exception {
        assumeThat(transport.available()).as(transport.toString()).isTrue();
        DnsConfig c = TestZones.config(new HostPort("127.0.0.1", 0));
        // Without rate limiting: the burst is 300 queries from one address.
        DnsServer server = DnsServer.start(c, DnsOptions.from(c).withRateLimit(RateLimit.OFF), transport, batched);
        try {
            assertThat(server.udpReaders()).allSatisfy(r -> assertThat(r.batched()).isEqualTo(batched && UdpBatchHandle.available()));
            // Lone queries: on Netty's channel the sockets are read one datagram at a time (DatagramReads).
            assertThat(unanswered(server.port(), 5_000, 3 * DatagramReads.LONE_READS, 2_000)).as("lone queries not answered").isEmpty();
            // A burst queued while every loop is blocked: read in batches once they run again.
            List<EventLoop> loops = server.udpChannels().stream().map(Channel::eventLoop).distinct().toList();
            Set<Integer> answered = new java.util.HashSet<>();
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
                socket.setReceiveBufferSize(1 << 20);
                socket.setSoTimeout(5_000);
                whileBlocked(loops, () -> {
                    for (int id = 6_000; id < 6_300; id++) {
                        byte[] wire = withId(query("www.foobar.com", Type.A), id).toWire();
                        socket.send(new DatagramPacket(wire, wire.length, new InetSocketAddress(LOOPBACK, server.port())));
                    }
                    return null;
                });
                DatagramPacket answer = new DatagramPacket(new byte[1232], 1232);
                while (answered.size() < 300) {
                    socket.receive(answer);
                    Message m = new Message(java.util.Arrays.copyOf(answer.getData(), answer.getLength()));
                    assertThat(m.getRcode()).isZero();
                    assertThat(m.getSection(org.xbill.DNS.Section.ANSWER)).isNotEmpty();
                    answered.add(m.getHeader().getID());
                }
            }
            assertThat(answered).as("ids answered").hasSize(300).allSatisfy(id -> assertThat(id).isBetween(6_000, 6_299));
            assertThat(unanswered(server.port(), 7_000, 3 * DatagramReads.LONE_READS, 2_000)).as("lone queries after the burst").isEmpty();
        } finally {
            server.close();
        }
    }

    /** The CPU of each UDP socket's event loop, pinned one each. */
    private static int[] loopCpus(DnsServer server) throws Exception {
        List<int[]> cpus = affinities(server);
        assertThat(cpus).allSatisfy(c -> assertThat(c).hasSize(1));
        return cpus.stream().mapToInt(c -> c[0]).toArray();
    }

    /** The CPUs each UDP socket's event loop may run on, in the order of the sockets (not their second readers). */
    private static List<int[]> affinities(DnsServer server) throws Exception {
        List<int[]> cpus = new ArrayList<>();
        Set<EventLoop> seen = new java.util.HashSet<>();
        for (Channel channel : server.udpChannels()) {
            if (seen.add(channel.eventLoop())) {
                cpus.add(channel.eventLoop().submit(CpuAffinity::current).get(5, TimeUnit.SECONDS));
            }
        }
        return cpus;
    }

    /** {@code c} with these readers and CPU affinity. */
    private static DnsConfig with(DnsConfig c, DnsConfig.UdpReaders readers, boolean cpuAffinity) {
        return new DnsConfig(c.addresses(), c.zones(), c.udpPayload(), c.rateLimit(), c.transferTo(), c.notifyTargets(), c.healthChecks(),
                c.tsig(), c.metrics(), readers, cpuAffinity, c.tcpConnections(), "");
    }

    /** Runs {@code body} on this thread pinned to {@code cpu}, then lets the thread run where it could before. */
    private static <T> T onCpu(int cpu, java.util.concurrent.Callable<T> body) throws Exception {
        int[] before = CpuAffinity.current();
        assertThat(CpuAffinity.set(cpu)).as("pinned to cpu " + cpu).isTrue();
        try {
            return body.call();
        } finally {
            CpuAffinity.set(before);
        }
    }

    /** Runs {@code body} while {@code loop} runs a task that waits for it. */
    private static <T> T whileBlocked(EventLoop loop, java.util.concurrent.Callable<T> body) throws Exception {
        return whileBlocked(List.of(loop), body);
    }

    /** Runs {@code body} while each of {@code loops} runs a task that waits for it. */
    private static <T> T whileBlocked(List<EventLoop> loops, java.util.concurrent.Callable<T> body) throws Exception {
        CountDownLatch blocked = new CountDownLatch(loops.size());
        CountDownLatch release = new CountDownLatch(1);
        for (EventLoop loop : loops) {
            loop.execute(() -> {
                blocked.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        try {
            return body.call();
        } finally {
            release.countDown();
        }
    }

    /** Sends {@code count} queries one after another (IDs from {@code firstId}); the indexes of those not answered within {@code millis}. */
    private static List<Integer> unanswered(int port, int firstId, int count, int millis) throws Exception {
        List<Integer> unanswered = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (!answeredWithin(port, firstId + i, millis)) {
                unanswered.add(i);
            }
        }
        return unanswered;
    }

    private static Message withId(Message query, int id) {
        query.getHeader().setID(id);
        return query;
    }

    private static boolean answeredWithin(int port, int id, int millis) throws Exception {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            socket.setSoTimeout(millis);
            byte[] wire = withId(query("www.foobar.com", Type.A), id).toWire();
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
