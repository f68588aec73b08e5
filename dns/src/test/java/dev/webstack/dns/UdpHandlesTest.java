package dev.webstack.dns;

import static dev.webstack.dns.TestZones.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.channel.epoll.Epoll;
import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The UDP paths of our own handles, {@link UdpRingHandle} on io_uring and {@link UdpBatchHandle} on
 * epoll, each: answers over IPv4, IPv6 and a dual-stack socket, UDP and TCP on each transport, the
 * rate limit by the sender read from native memory, the port free once the server is closed, and
 * no object made per query on the event loops (measured by the JVM's count of each thread's
 * allocated bytes), against Netty's channel ({@link UdpHandler}), which makes some.
 */
class UdpHandlesTest {
    private static final Logger log = LoggerFactory.getLogger(UdpHandlesTest.class);
    /** Queries per measurement, after as many to warm up. */
    private static final int QUERIES = 20_000;
    /** Measurements of {@link #QUERIES} queries each, at most; the least counts. */
    private static final int WINDOWS = 5;
    /** Queries sent before the answers are read: the handle reads them in batches. */
    private static final int BURST = 8;

    /** Both transports whose UDP sockets our handles read, where this machine has them. */
    static List<DnsTransport> handleTransports() {
        return java.util.stream.Stream.of(DnsTransport.IO_URING, DnsTransport.EPOLL).filter(DnsTransport::available).toList();
    }

    private static DnsServer start(DnsConfig c, DnsTransport transport) {
        return DnsServer.start(c, DnsOptions.from(c), transport, true);
    }

    @Test
    void theEventLoopsMakeNoObjectPerQuery() throws Exception {
        assumeThat(Epoll.isAvailable() && UdpBatchHandle.available()).as("epoll and JNA").isTrue();
        for (DnsTransport transport : handleTransports()) {
            double batched = bytesPerQuery(transport, true);
            log.info("bytes allocated by the dns event loops per query on {}: {}", transport, batched);
            // A few bytes per query at most: whatever the loops allocate now and then. No object per
            // query: the smallest is 16 bytes. On io_uring Netty's loop makes one 16-byte object per
            // wake-up (its completion callback, see bytesPerQuery), about one per four queries here.
            assertThat(batched).as("bytes allocated by the event loops per query, " + transport)
                    .isLessThan(transport == DnsTransport.IO_URING ? 8 : 4);
        }
        double netty = bytesPerQuery(DnsTransport.EPOLL, false);
        log.info("bytes allocated by the dns event loops per query on Netty's channel: {}", netty);
        // The measurement sees allocation: Netty's channel makes a DatagramPacket and an address per datagram.
        assertThat(netty).as("bytes allocated by the event loops per query, Netty's channel").isGreaterThan(64);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("handleTransports")
    void answersOverUdpAndTcp(DnsTransport transport) throws Exception {
        DnsServer server = start(TestZones.config(new HostPort("127.0.0.1", 0)), transport);
        try {
            assertThat(server.udpReaders()).isNotEmpty().allSatisfy(r -> assertThat(r.batched()).isTrue());
            assertThat(server.udpReaders()).allSatisfy(r -> assertThat(r.ring() != null).isEqualTo(transport == DnsTransport.IO_URING));
            try (DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET)) {
                channel.bind(new InetSocketAddress("127.0.0.1", 0));
                InetSocketAddress to = new InetSocketAddress("127.0.0.1", server.port());
                // More queries than a receive's buffers and a send's slots, each answered with its ID.
                for (int id = 1; id <= 3 * UdpRingHandle.BUFFERS; id++) {
                    Message answer = ask(channel, to, query(id % 2 == 0 ? "www.foobar.com" : "foobar.com", id % 2 == 0 ? Type.CNAME : Type.MX), id);
                    assertThat(answer.getRcode()).isEqualTo(Rcode.NOERROR);
                    assertThat(answer.getSection(Section.ANSWER)).as("answer " + id).hasSize(1);
                }
            }
            org.xbill.DNS.SimpleResolver tcp = new org.xbill.DNS.SimpleResolver("127.0.0.1");
            tcp.setPort(server.port());
            tcp.setTCP(true);
            Message answer = tcp.send(query("www.foobar.com", Type.CNAME));
            assertThat(answer.getRcode()).isEqualTo(Rcode.NOERROR);
            assertThat(answer.getSection(Section.ANSWER)).as("over tcp on " + transport).hasSize(1);
        } finally {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("handleTransports")
    void answersOverIpv6AndOnADualStackSocket(DnsTransport transport) throws Exception {
        assumeThat(UdpBatchHandle.available()).as("JNA").isTrue();
        for (String listen : List.of("::1", "::")) {
            DnsServer server = start(TestZones.config(new HostPort(listen, 0)), transport);
            try {
                assertThat(server.udpReaders()).allSatisfy(r -> assertThat(r.batched()).isTrue());
                for (String from : List.of("::1", "127.0.0.1")) {
                    if (listen.equals("::1") && from.equals("127.0.0.1")) {
                        continue;
                    }
                    InetAddress client = InetAddress.getByName(from);
                    try (DatagramChannel channel = DatagramChannel.open(client instanceof java.net.Inet6Address
                            ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET)) {
                        channel.bind(new InetSocketAddress(client, 0));
                        InetSocketAddress to = new InetSocketAddress(client, server.port());
                        Message answer = ask(channel, to, query("www.foobar.com", Type.CNAME), 1);
                        assertThat(answer.getRcode()).as(from + " to " + listen).isEqualTo(Rcode.NOERROR);
                        assertThat(answer.getSection(Section.ANSWER)).as(from + " to " + listen).hasSize(1);
                    }
                }
            } finally {
                server.close();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("handleTransports")
    void closingReleasesThePortAtOnce(DnsTransport transport) throws Exception {
        assumeThat(UdpBatchHandle.available()).as("JNA").isTrue();
        DnsServer server = start(TestZones.config(new HostPort("127.0.0.1", 0)), transport);
        int port = server.port();
        assertThat(server.udpReaders()).isNotEmpty().allSatisfy(r -> assertThat(r.batched()).isTrue());
        server.close();
        // A socket without SO_REUSEPORT binds only once no socket holds the port: every duplicate
        // descriptor the readers had is closed (else a server started again on the port would join
        // their group, and datagrams would go to sockets nobody reads).
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
            assertThat(socket.getLocalPort()).isEqualTo(port);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("handleTransports")
    void theRateLimitCountsTheSenderReadFromTheDatagram(DnsTransport transport) throws Exception {
        assumeThat(UdpBatchHandle.available()).as("JNA").isTrue();
        // On a dual-stack socket an IPv4 client arrives as ::ffff:127.0.0.1, and is limited as 127.0.0.0/24 still.
        for (String listen : List.of("127.0.0.1", "::")) {
            DnsConfig c = TestZones.config(new HostPort(listen, 0));
            DnsServer server = DnsServer.start(c, DnsOptions.from(c).withRateLimit(new RateLimit(5, 0, 24, 56)), transport, true);
            try {
                // 127.0.0.1 and 127.0.0.2 share the budget of their /24; 127.0.1.1 has one of its own.
                assertThat(answersWithinOneSecond(server.port(), "127.0.0.1", "127.0.0.2", "127.0.1.1"))
                        .as("answers per client, listening on " + listen).containsExactly(5, 5);
            } finally {
                server.close();
            }
        }
    }

    /**
     * Sends 10 queries from each of {@code same1} and {@code same2} and from {@code other},
     * interleaved, all within one second of the clock; how many were answered to the first two
     * together, and to {@code other}.
     */
    private static List<Integer> answersWithinOneSecond(int port, String same1, String same2, String other) throws Exception {
        for (int attempt = 0; attempt < 5; attempt++) {
            // Start just after a second begins, so that the queries and answers fit in it.
            Thread.sleep(1_000 - System.currentTimeMillis() % 1_000 + 20);
            long second = System.currentTimeMillis() / 1_000;
            List<DatagramChannel> channels = new ArrayList<>();
            try {
                for (String from : List.of(same1, same2, other)) {
                    DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
                    channels.add(channel);
                    channel.bind(new InetSocketAddress(from, 0)).configureBlocking(false);
                }
                InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
                for (int i = 0; i < 10; i++) {
                    for (DatagramChannel channel : channels) {
                        channel.send(ByteBuffer.wrap(query("www.foobar.com", Type.A).toWire()), to);
                    }
                }
                int[] answered = new int[channels.size()];
                ByteBuffer answer = ByteBuffer.allocate(1232);
                long quietUntil = System.nanoTime() + 200_000_000L;
                while (System.nanoTime() < quietUntil) {
                    for (int i = 0; i < channels.size(); i++) {
                        answer.clear();
                        if (channels.get(i).receive(answer) != null) {
                            answered[i]++;
                        }
                    }
                    Thread.sleep(1);
                }
                if (System.currentTimeMillis() / 1_000 == second) {
                    return List.of(answered[0] + answered[1], answered[2]);
                }
            } finally {
                for (DatagramChannel channel : channels) {
                    channel.close();
                }
            }
        }
        throw new AssertionError("no attempt fitted in one second");
    }

    /**
     * The bytes the DNS event loops allocate per query, over {@link #QUERIES} queries in bursts
     * after as many to warm up: the least of up to {@link #WINDOWS} such measurements.
     */
    private static double bytesPerQuery(DnsTransport transport, boolean batches) throws Exception {
        // As the tiers run (Webstack.main): the leak detector's sampled records are allocations of its own.
        ResourceLeakDetector.Level leakDetection = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        DnsConfig c = TestZones.config(new HostPort("127.0.0.1", 0));
        // The rate limit on (as by default), high enough never to drop: its check runs per query.
        DnsServer server = DnsServer.start(c, DnsOptions.from(c).withRateLimit(new RateLimit(10_000_000, 2, 24, 56)), transport, batches);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            TestZones.awaitPrecompiled(server, Duration.ofSeconds(10));
            socket.setReceiveBufferSize(1 << 20);
            socket.setSoTimeout(5_000);
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", server.port());
            exchange(socket, to);
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long[] loops = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("dns-"))
                    .mapToLong(Thread::threadId).toArray();
            assertThat(loops).as("dns event loop threads").isNotEmpty();
            // The least of a few windows: until the JIT has compiled the loop's code, Netty's io_uring
            // loop allocates an object per wake-up (the completion callback, a method reference).
            double least = Double.MAX_VALUE;
            for (int window = 0; window < WINDOWS && least >= 1; window++) {
                long before = sum(threads.getThreadAllocatedBytes(loops));
                exchange(socket, to);
                long after = sum(threads.getThreadAllocatedBytes(loops));
                least = Math.min(least, (after - before) / (double) QUERIES);
            }
            return least;
        } finally {
            server.close();
            ResourceLeakDetector.setLevel(leakDetection);
        }
    }

    /** Sends {@link #QUERIES} queries, {@link #BURST} at a time, and reads every answer. */
    private static void exchange(DatagramSocket socket, InetSocketAddress to) throws Exception {
        List<DatagramPacket> queries = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            byte[] q = query(i % 2 == 0 ? "www.foobar.com" : "foobar.com", i % 2 == 0 ? Type.A : Type.MX).toWire();
            queries.add(new DatagramPacket(q, q.length, to));
        }
        DatagramPacket answer = new DatagramPacket(new byte[1232], 1232);
        for (int sent = 0; sent < QUERIES; sent += BURST) {
            for (DatagramPacket q : queries) {
                socket.send(q);
            }
            for (int i = 0; i < BURST; i++) {
                socket.receive(answer); // times out if an answer is lost
                assertThat(answer.getLength()).as("an answer").isGreaterThan(12);
            }
        }
    }

    private static Message ask(DatagramChannel channel, InetSocketAddress to, Message query, int id) throws Exception {
        query.getHeader().setID(id);
        channel.send(ByteBuffer.wrap(query.toWire()), to);
        channel.configureBlocking(false);
        ByteBuffer answer = ByteBuffer.allocate(1232);
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (channel.receive(answer) == null) {
            assertThat(System.nanoTime()).as("an answer within 3 s").isLessThan(deadline);
            Thread.sleep(1);
        }
        Message m = new Message(java.util.Arrays.copyOf(answer.array(), answer.position()));
        assertThat(m.getHeader().getID()).isEqualTo(id);
        return m;
    }

    private static long sum(long[] values) {
        long sum = 0;
        for (long v : values) {
            sum += v;
        }
        return sum;
    }
}
