package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

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
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Bounded fuzzing of the query handling with {@link PacketMutator}'s hostile packets: in process
 * through {@link Responder} (fast path and slow path) and {@link ZoneTransfer}, then over the real
 * UDP and TCP sockets of a running server.
 *
 * <p>Every packet must be answered within a bounded time, without an exception escaping, as
 * follows: nothing for a packet shorter than a header or with QR set; otherwise a message dnsjava
 * parses, with the query's ID and opcode and QR set, that is FORMERR with no records when the
 * query does not parse, never SERVFAIL (which would mean an exception inside), never larger than
 * the transport allows, byte for byte what the slow path alone answers (so the fast path's own
 * parser agrees with dnsjava's on every mutant), and echoing the question when it answers one.
 *
 * <table>
 *   <caption>System properties (for {@code bench/dns/fuzz.sh})</caption>
 *   <tr><td>{@code dns.fuzz.count}</td><td>packets in process, default {@value #DEFAULT_COUNT}
 *       (about 10 s here)</td></tr>
 *   <tr><td>{@code dns.fuzz.socket-count}</td><td>packets over each of UDP and TCP, default
 *       {@value #DEFAULT_SOCKET_COUNT}</td></tr>
 *   <tr><td>{@code dns.fuzz.seed}</td><td>the generator's seed, default {@value #DEFAULT_SEED}</td></tr>
 * </table>
 */
class DnsFuzzTest {
    static final int DEFAULT_COUNT = 300_000;
    static final int DEFAULT_SOCKET_COUNT = 3_000;
    static final long DEFAULT_SEED = 4592;
    /** Longest any one packet may take in process: orders of magnitude above the microseconds it needs. */
    private static final Duration PER_PACKET = Duration.ofSeconds(1);
    /** Longest wait for an answer over a socket: generous, for a busy machine. */
    private static final int SOCKET_TIMEOUT_MS = 5_000;
    /** Index of "no answer" among the rcodes counted (above BADVERS, 16, the largest one seen). */
    private static final int SILENCE = 17;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static final int count = Integer.getInteger("dns.fuzz.count", DEFAULT_COUNT);
    private static final int socketCount = Integer.getInteger("dns.fuzz.socket-count", DEFAULT_SOCKET_COUNT);
    private static final long seed = Long.getLong("dns.fuzz.seed", DEFAULT_SEED);

    private static List<ZoneData> zones;
    private static Responder responder;
    private static DnsServer server;

    @BeforeAll
    static void start() {
        DnsConfig config = TestZones.config(new HostPort("127.0.0.1", 0));
        zones = ZoneLoader.loadAll(config);
        responder = new Responder(zones, config.udpPayload());
        server = DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theGeneratorsSeedsAreValidQueriesThatGetProperAnswers() {
        List<byte[]> seeds = new PacketMutator(seed).seeds();
        assertThat(seeds).hasSizeGreaterThan(400);
        for (byte[] query : seeds) {
            byte[] answer = ResponderTest.answer(responder, query, QueryHandler.Transport.TCP);
            Message response = TestZones.parse(answer);
            assertThat(response.getRcode()).as("answer to %s", TestZones.parse(query).getQuestion())
                    .isNotIn(Rcode.FORMERR, Rcode.SERVFAIL);
        }
    }

    @Test
    void mutatedAndRandomPacketsInProcessAreAnsweredFormerrOrProperlyOrNotAtAll() {
        PacketMutator packets = new PacketMutator(seed);
        ZoneTransfer transfers = new ZoneTransfer(Set.of(LOOPBACK));
        long[] slowest = new long[1];
        int[] rcodes = new int[SILENCE + 1];
        assertTimeoutPreemptively(Duration.ofSeconds(60).plusMillis(count / 2), () -> {
            for (int i = 0; i < count; i++) {
                byte[] query = packets.next();
                QueryHandler.Transport transport = (i & 1) == 0 ? QueryHandler.Transport.UDP : QueryHandler.Transport.TCP;
                int index = i;
                Supplier<String> what = () -> "packet " + index + " of seed " + seed + " over " + transport + ": " + hex(query);
                long started = System.nanoTime();
                byte[] answer = ResponderTest.answer(responder, query, transport);
                Optional<byte[]> slow = responder.slowPath().handle(query, transport);
                Optional<List<byte[]>> transfer = transport == QueryHandler.Transport.TCP
                        ? transfers.transfer(query, LOOPBACK, zones, responder.slowPath())
                        : transfers.overUdp(query, LOOPBACK, zones, responder.slowPath()).map(List::of);
                long took = System.nanoTime() - started;
                slowest[0] = Math.max(slowest[0], took);
                assertThat(Duration.ofNanos(took)).as(() -> "time for " + what.get()).isLessThan(PER_PACKET);
                if (!Arrays.equals(answer, slow.orElse(null))) {
                    assertThat(hex(answer)).as("the fast path agrees with the slow path: " + what.get()).isEqualTo(hex(slow.orElse(null)));
                }
                int rcode = check(query, answer, transport, what);
                rcodes[rcode < 0 ? SILENCE : rcode]++;
                transfer.ifPresent(messages -> assertThat(TestZones.parse(messages.get(0)).getHeader().getID())
                        .as(() -> "AXFR " + what.get()).isEqualTo(id(query)));
                if (transport == QueryHandler.Transport.UDP) {
                    transfer.ifPresent(messages -> assertThat(messages.get(0).length).as(() -> "IXFR in one datagram " + what.get())
                            .isLessThanOrEqualTo(responder.slowPath().sizeLimit(TestZones.parse(query), transport)));
                }
            }
        });
        String mix = "NOERROR " + rcodes[Rcode.NOERROR] + ", NXDOMAIN " + rcodes[Rcode.NXDOMAIN] + ", FORMERR "
                + rcodes[Rcode.FORMERR] + ", NOTIMP " + rcodes[Rcode.NOTIMP] + ", REFUSED " + rcodes[Rcode.REFUSED]
                + ", BADVERS " + rcodes[Rcode.BADVERS] + ", silence " + rcodes[SILENCE];
        System.out.printf("fuzz: %d packets in process (seed %d), slowest %.3f ms: %s%n", count, seed, slowest[0] / 1e6, mix);
        // The mix must reach every kind of answer, not only the errors.
        for (int rcode : new int[] {Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.FORMERR, Rcode.NOTIMP, Rcode.REFUSED, Rcode.BADVERS, SILENCE}) {
            assertThat(rcodes[rcode]).as("rcode %d in the mix %s", rcode, mix).isGreaterThan(count / 1000);
        }
    }

    @Test
    void mutatedPacketsOverUdpAreAnsweredOrDroppedAndTheServerKeepsAnswering() throws IOException {
        PacketMutator packets = new PacketMutator(seed + 1);
        byte[] sentinel = ResponderTest.query("www.foobar.com.", Type.A, -1, true, false, 0);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(SOCKET_TIMEOUT_MS);
            socket.connect(new InetSocketAddress(LOOPBACK, server.port()));
            for (int i = 0; i < socketCount; i++) {
                byte[] query = packets.next();
                if (query.length > DnsServer.MAX_UDP_QUERY) {
                    continue; // cut off by the server: answered as another packet
                }
                String what = "udp packet " + i + " of seed " + (seed + 1) + ": " + HexFormat.of().formatHex(query);
                socket.send(new DatagramPacket(query, query.length));
                if (silent(query)) {
                    // Silence is shown by the next query's answer arriving first.
                    int id = i & 0xFFFF;
                    sentinel[0] = (byte) (id >> 8);
                    sentinel[1] = (byte) id;
                    socket.send(new DatagramPacket(sentinel, sentinel.length));
                    assertThat(id(receive(socket))).as("the next answer after " + what).isEqualTo(id);
                } else {
                    check(query, receive(socket), QueryHandler.Transport.UDP, () -> what);
                }
            }
        }
    }

    @Test
    void mutatedPacketsOverTcpArePipelinedAndAnsweredInOrderOrCloseTheConnection() throws IOException {
        PacketMutator packets = new PacketMutator(seed + 2);
        int sent = 0;
        while (sent < socketCount) {
            // One connection per run of packets up to and including one the server does not answer.
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(LOOPBACK, server.port()), SOCKET_TIMEOUT_MS);
                socket.setSoTimeout(SOCKET_TIMEOUT_MS);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                DataInputStream in = new DataInputStream(socket.getInputStream());
                List<byte[]> batch = new java.util.ArrayList<>();
                while (sent < socketCount && batch.size() < 50) {
                    byte[] query = packets.next();
                    sent++;
                    if (query.length > QueryHandler.TCP_SIZE) {
                        continue;
                    }
                    batch.add(query);
                    out.writeShort(query.length);
                    out.write(query);
                    if (silent(query)) {
                        break;
                    }
                }
                out.flush(); // all of the batch before the first answer is read: pipelined
                for (byte[] query : batch) {
                    String what = "tcp packet " + (sent - batch.size() + batch.indexOf(query)) + " of seed " + (seed + 2)
                            + ": " + HexFormat.of().formatHex(query);
                    try {
                        if (silent(query)) {
                            assertThat(in.read()).as("the connection closed after " + what).isEqualTo(-1);
                        } else {
                            byte[] answer = new byte[in.readUnsignedShort()];
                            in.readFully(answer);
                            check(query, answer, QueryHandler.Transport.TCP, () -> what);
                        }
                    } catch (IOException e) {
                        throw new AssertionError("no answer to " + what, e);
                    }
                }
            }
        }
        // Still serving after all that.
        byte[] query = ResponderTest.query("www.foobar.com.", Type.A, -1, true, false, 7);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(SOCKET_TIMEOUT_MS);
            socket.send(new DatagramPacket(query, query.length, LOOPBACK, server.port()));
            assertThat(TestZones.parse(receive(socket)).getRcode()).isEqualTo(Rcode.NOERROR);
        }
    }

    /**
     * Asserts what every answer must be (see the class comment) and returns its rcode (with the
     * OPT's extended bits), or -1 for silence.
     */
    private static int check(byte[] query, byte[] answer, QueryHandler.Transport transport, Supplier<String> what) {
        if (silent(query)) {
            assertThat(hex(answer)).as(() -> "no answer to " + what.get()).isEqualTo(hex(null));
            return -1;
        }
        assertThat(answer).as(() -> "an answer to " + what.get()).isNotNull();
        Message response;
        try {
            response = new Message(answer);
        } catch (IOException e) {
            throw new AssertionError("unparseable answer " + hex(answer) + " to " + what.get(), e);
        }
        Header header = response.getHeader();
        assertThat(header.getID()).as(() -> "ID of the answer to " + what.get()).isEqualTo(id(query));
        assertThat(header.getFlag(Flags.QR)).as(() -> "QR of the answer to " + what.get()).isTrue();
        assertThat(header.getOpcode()).as(() -> "opcode of the answer to " + what.get()).isEqualTo((query[2] >> 3) & 0xF);
        int rcode = response.getRcode();
        assertThat(rcode).as(() -> "rcode of " + what.get()).isNotEqualTo(Rcode.SERVFAIL);
        Message parsed;
        try {
            parsed = new Message(query);
        } catch (IOException | RuntimeException e) {
            assertThat(Rcode.string(rcode)).as(() -> "rcode for the unparseable " + what.get()).isEqualTo("FORMERR");
            assertThat(answer).as(() -> "a bare FORMERR for " + what.get()).hasSize(Header.LENGTH);
            return rcode;
        }
        int limit = transport == QueryHandler.Transport.TCP ? QueryHandler.TCP_SIZE
                : responder.slowPath().sizeLimit(parsed, transport);
        assertThat(answer.length).as(() -> "size of the answer to " + what.get()).isLessThanOrEqualTo(limit);
        if ((rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN) && !header.getFlag(Flags.TC)) {
            assertThat(response.getSection(Section.QUESTION)).as(() -> "question of " + what.get())
                    .containsExactlyElementsOf(parsed.getSection(Section.QUESTION));
        }
        return rcode;
    }

    /** Whether the server must not answer: no header to answer, or a response (QR set). */
    private static boolean silent(byte[] query) {
        return query.length < Header.LENGTH || (query[2] & 0x80) != 0;
    }

    private static int id(byte[] message) {
        return (message[0] & 0xFF) << 8 | (message[1] & 0xFF);
    }

    private static byte[] receive(DatagramSocket socket) throws IOException {
        DatagramPacket response = new DatagramPacket(new byte[65535], 65535);
        socket.receive(response);
        return Arrays.copyOf(response.getData(), response.getLength());
    }

    private static String hex(byte[] bytes) {
        return bytes == null ? "(nothing)" : HexFormat.of().formatHex(bytes);
    }
}
