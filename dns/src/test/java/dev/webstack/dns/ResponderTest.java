package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The fast path (prepared wire bytes, patched per query) against the slow path (dnsjava messages):
 * for every query, the bytes must be the same.
 */
class ResponderTest {
    private static final QueryHandler.Transport UDP = QueryHandler.Transport.UDP;
    private static final QueryHandler.Transport TCP = QueryHandler.Transport.TCP;

    private static List<ZoneData> zones;
    private static Responder responder;

    @BeforeAll
    static void load() {
        DnsConfig config = TestZones.config(new HostPort("127.0.0.1", 0));
        zones = ZoneLoader.loadAll(config);
        responder = new Responder(zones, config.udpPayload());
    }

    @Test
    void precompilesEachNameForTheTypesItHoldsAndOnceForTheOthers() {
        int expected = 0;
        for (ZoneData zone : zones) {
            for (Set<Integer> held : zone.names().values()) {
                Set<Integer> all = new TreeSet<>(held);
                all.add(Type.ANY);
                if (held.contains(Type.CNAME)) {
                    all.addAll(Responder.PRECOMPILED_TYPES); // one answer per type: the chain depends on it
                } else if (!held.containsAll(Responder.ABSENT_TYPES)) {
                    expected++; // one answer for every type it does not hold
                }
                expected += all.size();
            }
        }
        // A NODATA answer that its zone's template gives byte for byte is not kept.
        assertThat(responder.precompiled() + responder.nodataTemplated()).isEqualTo(expected);
        assertThat(responder.precompiled()).isGreaterThan(50);
        assertThat(responder.nodataTemplated()).isGreaterThan(10);

        // A type the name does not hold, HTTPS among them, with EDNS: from the prepared answer, nothing learned.
        Responder fresh = new Responder(zones, 1232);
        for (int type : new int[] {Type.HTTPS, Type.SVCB, Type.CAA, Type.AAAA}) {
            byte[] query = query("MAIL.example.test.", type, 1232, true, false, 77);
            assertThat(hex(bytes(fresh.respond(Unpooled.wrappedBuffer(query), UDP, UnpooledByteBufAllocator.DEFAULT))))
                    .isEqualTo(hex(slow(query, UDP)));
        }
        assertThat(fresh.kept()).as("no answer learned").isEqualTo(fresh.precompiled());
    }

    @Test
    void theAbsentTypesAreTheSameSetInTheLookupAsAtLoad() {
        for (int type = 0; type <= 0xFFFF; type++) {
            assertThat(Responder.absentType(type)).as(Type.string(type)).isEqualTo(Responder.ABSENT_TYPES.contains(type));
        }
    }

    @Test
    void fastPathBytesEqualSlowPathForEveryNameAndTypeInCaseVariantsWithAndWithoutEdns() {
        Random random = new Random(42);
        int compared = 0;
        for (ZoneData zone : zones) {
            for (Map.Entry<Name, Set<Integer>> node : zone.names().entrySet()) {
                Set<Integer> types = new TreeSet<>(Responder.PRECOMPILED_TYPES);
                types.addAll(Responder.ABSENT_TYPES);
                types.addAll(node.getValue());
                String name = node.getKey().toString();
                for (String variant : List.of(name, name.toUpperCase(), mixedCase(name, random))) {
                    for (int type : types) {
                        for (int edns : new int[] {-1, 512, 1232, 4096}) {
                            for (QueryHandler.Transport transport : List.of(UDP, TCP)) {
                                byte[] query = query(variant, type, edns, random.nextBoolean(), random.nextBoolean(), random.nextInt(65536));
                                byte[] slow = slow(query, transport);
                                boolean fits = slow.length <= limit(edns, transport) && (slow[2] & 0x02) == 0;
                                Optional<byte[]> fast = fast(query, transport);
                                String what = variant + " " + Type.string(type) + " edns=" + edns + " " + transport;
                                if (fits) {
                                    assertThat(fast).as("fast path taken: " + what).isPresent();
                                    assertThat(hex(fast.get())).as(what).isEqualTo(hex(slow));
                                } else {
                                    assertThat(fast).as("too large for the fast path: " + what).isEmpty();
                                }
                                assertThat(hex(respond(query, transport))).as("respond: " + what).isEqualTo(hex(slow));
                                compared++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(2000);
    }

    @Test
    void withoutPrecompilingEachAnswerIsRenderedOnceThenKeptAndTheBytesAreThePreparedOnes() {
        // What DnsServer answers with while it precompiles on another thread.
        Responder unprepared = new Responder(zones, 1232, false);
        assertThat(unprepared.precompiled()).isZero();
        Random random = new Random(11);
        int asked = 0;
        for (ZoneData zone : zones) {
            for (Map.Entry<Name, Set<Integer>> node : zone.names().entrySet()) {
                Set<Integer> types = new TreeSet<>(node.getValue());
                types.add(Type.ANY);
                types.add(Type.HTTPS); // a type the name does not hold
                String name = node.getKey().toString();
                for (int type : types) {
                    for (String variant : List.of(name, mixedCase(name, random))) {
                        byte[] query = query(variant, type, random.nextBoolean() ? -1 : 1232, random.nextBoolean(), false, random.nextInt(65536));
                        assertThat(hex(answer(unprepared, query, UDP))).as(variant + " " + Type.string(type))
                                .isEqualTo(hex(answer(responder, query, UDP)));
                    }
                    asked++;
                }
            }
        }
        // Each name and type rendered once (the case variant came from the kept answer), as far as
        // the answers kept go.
        assertThat(unprepared.kept()).isEqualTo(Math.min(asked, Responder.MAX_LEARNED)).isGreaterThan(50);
    }

    @Test
    void learnedAnswersNxdomainAndWildcardEqualSlowPathInEveryCase() {
        Random random = new Random(7);
        Responder fresh = new Responder(zones, 1232);
        List<String> names = List.of("nope.foobar.com.", "a.b.c.nope.example.test.", "anything.wild.example.test.",
                "x.y.wild.example.test.", "deep.a.b.ent.example.test.", "nothing.sub.example.test.", "www.example.org.");
        for (String name : names) {
            // The first query renders and keeps the answer; the case variants then come from it.
            for (String variant : List.of(name, name.toUpperCase(), mixedCase(name, random), mixedCase(name, random))) {
                for (int type : new int[] {Type.A, Type.MX, Type.TXT, Type.ANY}) {
                    for (int edns : new int[] {-1, 1232}) {
                        byte[] query = query(variant, type, edns, random.nextBoolean(), random.nextBoolean(), random.nextInt(65536));
                        byte[] slow = fresh.slowPath().handle(query, UDP).orElseThrow();
                        assertThat(hex(bytes(fresh.respond(Unpooled.wrappedBuffer(query), UDP, UnpooledByteBufAllocator.DEFAULT))))
                                .as(variant + " " + Type.string(type) + " edns=" + edns).isEqualTo(hex(slow));
                    }
                }
            }
        }
    }

    @Test
    void absentNamesBelowAnApexAreAnsweredFromItsTemplateWithTheSlowPathsBytes() {
        Responder fresh = new Responder(zones, 1232);
        assertThat(fresh.nxTemplates()).as("foobar.com. and example.test.").isEqualTo(2);
        assertThat(new Responder(zones, 1232, false).nxTemplates()).as("not before the answers are precompiled").isZero();
        Random random = new Random(2026);
        int compared = 0;
        for (int i = 0; i < 400; i++) {
            StringBuilder name = new StringBuilder();
            int labels = 1 + random.nextInt(3);
            for (int l = 0; l < labels; l++) {
                name.append(randomLabel(random, i % 50 == 0 ? 63 : 1 + random.nextInt(20))).append('.');
            }
            String apex = random.nextBoolean() ? "foobar.com." : "example.test.";
            String variant = mixedCase(name + apex, random);
            int type = new int[] {Type.A, Type.AAAA, Type.MX, Type.TXT, Type.ANY, Type.CAA, Type.HTTPS}[random.nextInt(7)];
            int edns = new int[] {-1, 512, 1232, 4096}[random.nextInt(4)];
            QueryHandler.Transport transport = random.nextBoolean() ? UDP : TCP;
            byte[] query = query(variant, type, edns, random.nextBoolean(), random.nextBoolean(), random.nextInt(65536));
            byte[] slow = fresh.slowPath().handle(query, transport).orElseThrow();
            assertThat(slow[3] & 0xF).as(variant).isEqualTo(org.xbill.DNS.Rcode.NXDOMAIN);
            ByteBuf fast = fresh.fastPath(Unpooled.wrappedBuffer(query), transport, UnpooledByteBufAllocator.DEFAULT);
            assertThat(fast).as("fast path taken: " + variant).isNotNull();
            assertThat(hex(bytes(fast))).as(variant + " " + Type.string(type) + " edns=" + edns + " " + transport).isEqualTo(hex(slow));
            compared++;
        }
        assertThat(fresh.kept()).as("none of them learned").isEqualTo(fresh.precompiled());

        // Below an existing name of the zone's authoritative data (a CNAME, an address, an empty
        // non-terminal, a name beside a wildcard), the same template.
        for (String name : List.of("x.www.foobar.com.", "a.b.mail.foobar.com.", "deep.a.b.ent.example.test.",
                "x.host.wild.example.test.")) {
            byte[] query = query(mixedCase(name, random), Type.MX, 1232, true, false, 9);
            assertThat(hex(respond(fresh, query))).as(name).isEqualTo(hex(fresh.slowPath().handle(query, UDP).orElseThrow()));
            compared++;
        }
        assertThat(fresh.kept()).as("none of them learned").isEqualTo(fresh.precompiled());

        // Not below an apex, below a wildcard's parent or a zone cut, or ending with a name of the
        // SOA's (compressed against the question): the slow path's answers, kept.
        for (String name : List.of("q.wild.example.test.", "z.sub.example.test.", "x.ns.sub.example.test.", "absent.example.org.",
                "x.hostmaster.foobar.com.", "a.b.ns1.example.test.", "hostmaster.example.test.")) {
            byte[] query = query(mixedCase(name, random), Type.A, 1232, true, false, 9);
            assertThat(hex(respond(fresh, query))).as(name).isEqualTo(hex(fresh.slowPath().handle(query, UDP).orElseThrow()));
            compared++;
        }
        assertThat(fresh.kept()).as("all but the name outside the zones learned").isEqualTo(fresh.precompiled() + 6);
        assertThat(compared).isEqualTo(411);
    }

    private static String randomLabel(Random random, int length) {
        String letters = "abcdefghijklmnopqrstuvwxyz0123456789-";
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < length; i++) {
            out.append(letters.charAt(random.nextInt(i == 0 ? 26 : letters.length())));
        }
        return out.toString();
    }

    private static byte[] respond(Responder responder, byte[] query) {
        return bytes(responder.respond(Unpooled.wrappedBuffer(query), UDP, UnpooledByteBufAllocator.DEFAULT));
    }

    @Test
    void theFastPathCopiesTheDoBit() {
        byte[] plain = query("Mail.Example.Test.", Type.MX, 1232, true, false, 5);
        byte[] dnssecOk = withByte(plain, plain.length - 4, 0x80); // the OPT's first flags byte: DO

        for (byte[] query : List.of(plain, dnssecOk, plain)) {
            Optional<byte[]> fast = fast(query, UDP);
            assertThat(fast).as("fast path taken").isPresent();
            assertThat(hex(fast.get())).isEqualTo(responder.slowPath().handle(query, UDP).map(ResponderTest::hex).orElseThrow());
        }
        assertThat(fast(dnssecOk, UDP).map(a -> a[a.length - 4] & 0x80)).as("DO in the answer").contains(0x80);
    }

    @Test
    void queriesOutsideThePlainFormTakeTheSlowPath() {
        byte[] plain = query("www.foobar.com.", Type.A, -1, true, false, 1);
        assertThat(fast(plain, UDP)).as("the plain query itself").isPresent();

        List<byte[]> odd = new ArrayList<>();
        odd.add(withByte(plain, 2, plain[2] | 0x80)); // QR: a response
        odd.add(withByte(plain, 2, plain[2] | 0x10)); // opcode 2 (STATUS)
        odd.add(withByte(plain, 5, 2)); // QDCOUNT 2
        odd.add(withByte(plain, 7, 1)); // ANCOUNT 1
        odd.add(java.util.Arrays.copyOf(plain, plain.length + 1)); // a byte after the question
        odd.add(queryOfClass("www.foobar.com.", Type.A, DClass.CH)); // class CHAOS
        odd.add(queryOfClass("foobar.com.", Type.AXFR, DClass.IN));
        odd.add(queryWithEdnsVersion("www.foobar.com.", Type.A, 1)); // BADVERS
        for (byte[] query : odd) {
            assertThat(fast(query, UDP)).as(hex(query)).isEmpty();
            assertThat(Optional.ofNullable(bytes(responder.respond(Unpooled.wrappedBuffer(query), UDP, UnpooledByteBufAllocator.DEFAULT)))
                    .map(ResponderTest::hex))
                    .as(hex(query)).isEqualTo(responder.slowPath().handle(query, UDP).map(ResponderTest::hex));
        }
    }

    @Test
    void mutatedQueriesGetTheSlowPathsAnswerOrNothing() {
        Random random = new Random(2026);
        List<byte[]> seeds = List.of(
                query("www.foobar.com.", Type.A, -1, true, false, 7),
                query("Mail.Example.Test.", Type.MX, 1232, false, true, 8),
                query("x.wild.example.test.", Type.TXT, 4096, true, true, 9));
        for (int i = 0; i < 30_000; i++) {
            byte[] query = seeds.get(i % seeds.size()).clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                query[random.nextInt(query.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(10) == 0) {
                query = java.util.Arrays.copyOf(query, random.nextInt(query.length + 4));
            }
            for (QueryHandler.Transport transport : List.of(UDP, TCP)) {
                Optional<String> expected = responder.slowPath().handle(query, transport).map(ResponderTest::hex);
                Optional<String> actual = Optional.ofNullable(bytes(responder.respond(Unpooled.wrappedBuffer(query), transport,
                        UnpooledByteBufAllocator.DEFAULT))).map(ResponderTest::hex);
                assertThat(actual).as(hex(query) + " " + transport).isEqualTo(expected);
            }
        }
    }

    private static Optional<byte[]> fast(byte[] query, QueryHandler.Transport transport) {
        return Optional.ofNullable(bytes(responder.fastPath(Unpooled.wrappedBuffer(query), transport, UnpooledByteBufAllocator.DEFAULT)));
    }

    private static byte[] respond(byte[] query, QueryHandler.Transport transport) {
        return answer(responder, query, transport);
    }

    /** {@code r}'s answer to {@code query} as bytes (its buffer released), or null for silence. */
    static byte[] answer(Responder r, byte[] query, QueryHandler.Transport transport) {
        return bytes(r.respond(Unpooled.wrappedBuffer(query), transport, UnpooledByteBufAllocator.DEFAULT));
    }

    private static byte[] slow(byte[] query, QueryHandler.Transport transport) {
        return responder.slowPath().handle(query, transport).orElseThrow();
    }

    private static byte[] bytes(ByteBuf buf) {
        if (buf == null) {
            return null;
        }
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    private static int limit(int edns, QueryHandler.Transport transport) {
        if (transport == TCP) {
            return 65535;
        }
        return edns < 0 ? 512 : Math.min(Math.max(edns, 512), 1232);
    }

    static byte[] query(String name, int type, int edns, boolean rd, boolean cd, int id) {
        Message m = new Message(id);
        m.addRecord(Record.newRecord(Name.fromConstantString(name), type, DClass.IN), Section.QUESTION);
        if (rd) {
            m.getHeader().setFlag(Flags.RD);
        }
        if (cd) {
            m.getHeader().setFlag(Flags.CD);
        }
        if (edns >= 0) {
            m.addRecord(new OPTRecord(edns, 0, 0), Section.ADDITIONAL);
        }
        return m.toWire();
    }

    private static byte[] queryOfClass(String name, int type, int dclass) {
        Message m = new Message(3);
        m.addRecord(Record.newRecord(Name.fromConstantString(name), type, dclass), Section.QUESTION);
        return m.toWire();
    }

    private static byte[] queryWithEdnsVersion(String name, int type, int version) {
        Message m = new Message(4);
        m.addRecord(Record.newRecord(Name.fromConstantString(name), type, DClass.IN), Section.QUESTION);
        m.addRecord(new OPTRecord(1232, 0, version), Section.ADDITIONAL);
        return m.toWire();
    }

    private static byte[] withByte(byte[] bytes, int index, int value) {
        byte[] copy = bytes.clone();
        copy[index] = (byte) value;
        return copy;
    }

    static String mixedCase(String name, Random random) {
        StringBuilder b = new StringBuilder(name.length());
        for (char c : name.toCharArray()) {
            b.append(random.nextBoolean() ? Character.toUpperCase(c) : c);
        }
        return b.toString();
    }

    private static String hex(byte[] bytes) {
        return bytes == null ? "(nothing)" : HexFormat.of().formatHex(bytes);
    }
}
