package dev.webstack.dns;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * Answers queries from wire bytes prepared in advance, and hands everything else to
 * {@link QueryHandler}: the fast path in front of the slow one, for one immutable set of zones.
 *
 * <p>A response of an authoritative server depends on the query only through its ID, the RD and
 * CD flags, the case of the question name, whether it carries EDNS, its DO bit and the size it
 * allows. So the
 * response to {@code (lower-case name, type, EDNS or not)} is rendered once by {@link QueryHandler}
 * (compression included) and, per query, copied with only the ID, RD, CD, DO and the question name's
 * bytes patched in. dnsjava compresses names case-insensitively, so the layout of a response does
 * not depend on the question's case, and the question name is always written whole at offset 12.
 *
 * <p>Prepared when the zones are loaded, for every name of every zone (empty non-terminals
 * included): the answer to each type the name holds and to ANY, and one answer for every type of
 * {@link #ABSENT_TYPES} it does not hold (NODATA, or the referral below a zone cut: the same bytes
 * whatever the type, but for the question's type, which is patched like its case). A name that
 * holds a CNAME has one answer per type of {@link #PRECOMPILED_TYPES}, as the chain followed
 * depends on the type. Only the answer without EDNS is kept: the answer to a query with EDNS is
 * the same with one more additional record, the OPT the slow path puts last ({@link
 * QueryHandler#answerOpt}: the server's UDP size, the query's DO bit), appended per query. The
 * prepared answers are kept in an {@link AnswerTable}, each with its key in one array. Most absent
 * names are answered from their zone's NXDOMAIN template ({@link NxDomain}), and so are most
 * NODATA answers: a name's answer to the types it does not hold is dropped at load when the
 * template, with NOERROR, gives the same bytes.
 * Other answers inside the zones (other NXDOMAINs, wildcard matches) are kept the first time the
 * slow path renders them, up to {@value #MAX_LEARNED} of them, so that a flood of random names
 * cannot grow the memory without bound; beyond that they are rendered by the slow path each time.
 *
 * <p>Only the plain form of a query takes the fast path: opcode QUERY, QR clear, one question of
 * class IN with an uncompressed name, no answer or authority records, at most an OPT of version 0
 * with no options, nothing after it. A response larger than the transport allows goes through the
 * slow path too, which truncates it. Any other query is the slow path's, with its error answers
 * (so is a query with EDNS options such as a cookie: the slow path ignores them, and the fast path
 * does not parse them).
 */
final class Responder {
    /** Most answers learned after load (beyond the precompiled ones). */
    static final int MAX_LEARNED = 10_000;

    /** Types prepared one by one for a name that holds a CNAME (the chain followed depends on the type). */
    static final List<Integer> PRECOMPILED_TYPES = List.of(Type.A, Type.AAAA, Type.CNAME, Type.NS, Type.SOA, Type.MX,
            Type.TXT, Type.SRV, Type.CAA, Type.PTR, Type.ANY);

    /**
     * Types whose answer, at a name without a CNAME that does not hold them, is the same whatever
     * the type: NODATA, or the referral below a zone cut. Not ANY (RFC 8482), DS (answered by the
     * parent side of a cut), nor the DNSSEC types.
     */
    static final Set<Integer> ABSENT_TYPES = Set.of(Type.A, Type.AAAA, Type.CNAME, Type.NS, Type.SOA, Type.MX,
            Type.TXT, Type.SRV, Type.CAA, Type.PTR, Type.HTTPS, Type.SVCB);

    /** {@link #ABSENT_TYPES} by type code, for {@link #absentType}. */
    private static final boolean[] IS_ABSENT_TYPE = new boolean[ABSENT_TYPES.stream().mapToInt(Integer::intValue).max().orElse(0) + 1];

    static {
        ABSENT_TYPES.forEach(t -> IS_ABSENT_TYPE[t] = true);
    }

    /** The key type of a name's answer to the {@link #ABSENT_TYPES} it does not hold: no 16-bit type. */
    private static final int ABSENT = -1;
    /** The OPT record appended to an answer with EDNS: root name, type, UDP size, TTL (rcode, version, flags), no data. */
    private static final int OPT_LENGTH = 11;
    /** Where the DO bit's byte is in it, counted from its end. */
    private static final int OPT_FLAGS_FROM_END = 4;

    private static final int HEADER = 12;
    private static final int MAX_NAME = 255;
    private static final int FLAG_AA = 0x04; // in header byte 2
    private static final int FLAG_RD = 0x01; // in header byte 2
    private static final int FLAG_CD = 0x10; // in header byte 3
    private static final int FLAG_DO = 0x80; // in the first byte of the OPT's flags (RFC 3225)

    /** Buffers on the heap, even for {@code ioBuffer}: the answers compared at load are never sent. */
    private static final ByteBufAllocator HEAP = new AbstractByteBufAllocator(false) {
        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return Unpooled.buffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return Unpooled.buffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        @Override
        public ByteBuf ioBuffer(int initialCapacity) {
            return heapBuffer(initialCapacity);
        }
    };

    private final List<ZoneData> zones;
    private final QueryHandler slow;
    private final int udpPayload;
    private final byte[] nsid;
    private final byte[] opt;
    private final AnswerTable prepared;
    // Per zone, the NXDOMAIN template for absent names (NxDomain): none until precompiled.
    private final List<NxDomain> absent;
    private final int nodataTemplated;
    // Entries as AnswerTable's, added by the event loops: a concurrent map, bounded by MAX_LEARNED.
    private final ConcurrentHashMap<Key, byte[]> learned = new ConcurrentHashMap<>();
    private final AtomicInteger learning = new AtomicInteger();
    private final FastThreadLocal<Key> probes = new FastThreadLocal<>() {
        @Override
        protected Key initialValue() {
            return new Key();
        }
    };

    /**
     * @param zones      the zones, already checked
     * @param udpPayload largest UDP response to an EDNS client, at least 512
     */
    Responder(List<ZoneData> zones, int udpPayload) {
        this(zones, udpPayload, true);
    }

    /**
     * @param precompile whether to render the answers now; without, each is rendered by the slow
     *                   path the first time it is asked, and kept as a learned one (what {@link
     *                   DnsServer} answers with while it renders them on another thread)
     */
    Responder(List<ZoneData> zones, int udpPayload, boolean precompile) {
        this(zones, udpPayload, new byte[0], precompile);
    }

    /**
     * @param nsid this server's identifier for queries that ask for it (RFC 5001); empty: none.
     *             Such queries carry an EDNS option, and so take the slow path
     */
    Responder(List<ZoneData> zones, int udpPayload, byte[] nsid, boolean precompile) {
        this.zones = List.copyOf(zones);
        this.slow = new QueryHandler(new Authority(zones), udpPayload, nsid);
        this.udpPayload = udpPayload;
        this.nsid = nsid.clone();
        this.opt = opt(udpPayload);
        List<Prepared> work = new ArrayList<>();
        for (ZoneData zone : precompile ? zones : List.<ZoneData>of()) {
            for (Map.Entry<Name, Set<Integer>> node : zone.names().entrySet()) {
                Set<Integer> held = node.getValue();
                Set<Integer> types = new TreeSet<>(held);
                types.add(Type.ANY);
                if (held.contains(Type.CNAME)) {
                    types.addAll(PRECOMPILED_TYPES);
                } else {
                    ABSENT_TYPES.stream().filter(t -> !held.contains(t)).min(Integer::compare)
                            .ifPresent(absent -> work.add(new Prepared(node.getKey(), absent, ABSENT)));
                }
                for (int type : types) {
                    work.add(new Prepared(node.getKey(), type, type));
                }
            }
        }
        // Rendered on every core: a zone of 100,000 names has 300,000 answers, which took most of
        // its load time on one thread. The handler and the zones are what the event loops share
        // anyway. In the work's order, so that of two answers under one key the same one is kept.
        List<Rendered> rendered = work.parallelStream().map(p -> prepare(p.name(), p.type(), p.keyType()))
                .filter(r -> r != null).toList();
        AnswerTable table = table(rendered);
        // Absent names are told by the answers to ANY, so only when every name has its own.
        boolean everyName = precompile && this.zones.stream().allMatch(
                zone -> zone.names().keySet().stream().allMatch(name -> exists(table, NxDomain.lowerWire(name))));
        this.absent = !everyName ? List.of() : this.zones.stream()
                .map(zone -> NxDomain.of(zone, name -> exists(table, name), name -> render(query(name, Type.A))))
                .filter(nx -> nx != null).toList();
        // A name's NODATA answer that the template gives byte for byte need not be kept: about a
        // third of the answers of a zone whose names hold one type each.
        List<Rendered> kept = rendered.parallelStream().filter(r -> !nodataFromTemplate(table, r.entry())).toList();
        this.prepared = kept.size() == rendered.size() ? table : table(kept);
        this.nodataTemplated = rendered.size() - kept.size();
    }

    private static AnswerTable table(List<Rendered> rendered) {
        return AnswerTable.of(rendered.stream().map(Rendered::entry).toList(), rendered.stream().map(Rendered::hash).toList());
    }

    /** Whether {@code name} (wire form, lower case) is a name of the zones: it has a prepared answer to ANY. */
    private static boolean exists(AnswerTable table, byte[] name) {
        return answerToAny(table, name, 0, name.length) != null;
    }

    /** The entry in {@code table} of the answer to ANY for the name at {@code offset} in {@code name}, or {@code null}. */
    private static byte[] answerToAny(AnswerTable table, byte[] name, int offset, int length) {
        return table.get(Key.hash(name, offset, length, Type.ANY), name, offset, length, Type.ANY);
    }

    /**
     * Whether {@code entry} is a name's answer to the types it does not hold that {@link #template}
     * would give, byte for byte but the ID, from the answers in {@code table}.
     */
    private boolean nodataFromTemplate(AnswerTable table, byte[] entry) {
        int n = AnswerTable.nameLength(entry);
        if (AnswerTable.type(entry) != ABSENT || absent.isEmpty()) {
            return false;
        }
        // The query the template would answer: the entry's name and question type.
        int qtype = AnswerTable.afterNameAt(entry);
        ByteBuf query = Unpooled.buffer(HEADER + n + 4);
        query.writeZero(HEADER).writeBytes(entry, 1, n).writeBytes(entry, qtype, 4).setShort(4, 1); // QDCOUNT
        Key probe = probes.get();
        if (!probe.parse(query)) {
            return false;
        }
        ByteBuf answer = template(table, probe, query, QueryHandler.Transport.TCP, HEAP);
        if (answer == null) {
            return false;
        }
        try {
            // The same bytes but the ID: the header's, the name, then from QTYPE on.
            byte[] got = answer.array();
            int at = answer.arrayOffset() + answer.readerIndex();
            int header = AnswerTable.headerAt(entry);
            return answer.readableBytes() == AnswerTable.answerLength(entry)
                    && Arrays.equals(got, at + 2, at + HEADER, entry, header + 2, header + HEADER)
                    && Arrays.equals(got, at + HEADER, at + HEADER + n, entry, 1, 1 + n)
                    && Arrays.equals(got, at + HEADER + n, at + answer.readableBytes(), entry, qtype, entry.length);
        } finally {
            answer.release();
        }
    }

    /** A query for {@code name} and {@code type}, without EDNS and RD: what the answers kept are rendered for. */
    private static Message query(Name name, int type) {
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        query.getHeader().unsetFlag(org.xbill.DNS.Flags.RD);
        return query;
    }

    /**
     * The slow path's whole (never truncated) answer to {@code query}; {@code null} if it fails
     * (the slow path answers it SERVFAIL, and logs why, when it is asked).
     */
    private byte[] render(Message query) {
        try {
            // The query as a message, not as bytes to parse again: what the slow path does after parsing.
            return QueryHandler.render(slow.respond(query), QueryHandler.TCP_SIZE);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** How many zones answer absent names from a template ({@link NxDomain}). */
    int nxTemplates() {
        return absent.size();
    }

    /** How many names' NODATA answers come from their zone's template instead of being kept. */
    int nodataTemplated() {
        return nodataTemplated;
    }

    /** An answer to render at load: to {@code name} and {@code type}, kept under {@code keyType}. */
    private record Prepared(Name name, int type, int keyType) {}

    /** A rendered answer: its {@link AnswerTable} entry and its key's hash. */
    private record Rendered(byte[] entry, int hash) {}

    List<ZoneData> zones() {
        return zones;
    }

    /** The largest UDP response to an EDNS client. */
    int udpPayload() {
        return udpPayload;
    }

    /** The NSID given to queries that ask for it; empty for none. */
    byte[] nsid() {
        return nsid.clone();
    }

    QueryHandler slowPath() {
        return slow;
    }

    /** How many answers were rendered at load. */
    int precompiled() {
        return prepared.size();
    }

    /** Whether {@code type} is one of {@link #ABSENT_TYPES}; without boxing, per query. */
    static boolean absentType(int type) {
        return type >= 0 && type < IS_ABSENT_TYPE.length && IS_ABSENT_TYPE[type];
    }

    /** How many answers are kept now: those rendered at load and those learned since. */
    int kept() {
        return prepared.size() + learned.size();
    }

    /**
     * Renders the answer to {@code name} and {@code type}, to be kept under {@code keyType}; {@code
     * null} when it is not worth keeping.
     */
    private Rendered prepare(Name name, int type, int keyType) {
        Message query = query(name, type);
        Key probe = new Key();
        if (!probe.parse(Unpooled.wrappedBuffer(query.toWire()))) {
            return null;
        }
        byte[] answer = render(query);
        if (answer == null || !keepable(answer) || !asked(answer, probe)) {
            return null;
        }
        probe.type(keyType);
        return new Rendered(AnswerTable.entry(probe.name, probe.nameLength, keyType, answer), probe.hashCode());
    }

    /**
     * The response to {@code query} (not consumed: its reader index is kept), or {@code null} when
     * nothing is to be sent. The caller owns the returned buffer.
     */
    ByteBuf respond(ByteBuf query, QueryHandler.Transport transport, ByteBufAllocator alloc) {
        ByteBuf fast = fastPath(query, transport, alloc);
        if (fast != null) {
            return fast;
        }
        return slow.handle(ByteBufUtil.getBytes(query), transport).map(Unpooled::wrappedBuffer).orElse(null);
    }

    /**
     * The response from prepared bytes, or {@code null} when the query is not in its plain form,
     * has no prepared answer that can be kept, or its answer is too large for {@code transport}.
     */
    ByteBuf fastPath(ByteBuf query, QueryHandler.Transport transport, ByteBufAllocator alloc) {
        Key probe = probes.get();
        if (!probe.parse(query)) {
            return null;
        }
        byte[] entry = kept(probe);
        if (entry == null && absentType(probe.type)) {
            int type = probe.type;
            probe.type(ABSENT);
            entry = kept(probe);
            probe.type(type);
        }
        if (entry == null) {
            ByteBuf templated = template(prepared, probe, query, transport, alloc);
            if (templated != null) {
                return templated;
            }
            entry = learn(probe, query);
        }
        if (entry == null
                || AnswerTable.answerLength(entry) + (probe.edns ? OPT_LENGTH : 0) > sizeLimit(probe, transport)
                || probe.edns && AnswerTable.rcode(entry) == Rcode.REFUSED) {
            // A name in none of the zones, with EDNS: the slow path says why (an Extended DNS Error).
            return null;
        }
        return patched(entry, query, probe, opt, alloc);
    }

    /**
     * The answer to {@code probe} from its zone's template ({@link NxDomain}), with the answers in
     * {@code table}: NXDOMAIN for an absent name, or NODATA for an authoritative name without a
     * CNAME asked for one of the {@link #ABSENT_TYPES}. {@code null} when the query does not
     * qualify or the answer is too large for {@code transport}.
     */
    private ByteBuf template(AnswerTable table, Key probe, ByteBuf query, QueryHandler.Transport transport, ByteBufAllocator alloc) {
        if (absent.isEmpty() || !(absentType(probe.type) || probe.type == Type.ANY)) {
            return null;
        }
        NxDomain zone = null;
        int before = -1;
        for (NxDomain z : absent) {
            int b = z.below(probe.name, probe.nameLength);
            if (b > 0 && (zone == null || z.apexLength() > zone.apexLength())) {
                zone = z;
                before = b;
            }
        }
        if (zone == null) {
            return null;
        }
        // An absent name's closest encloser is the apex, or an authoritative name below it without
        // a wildcard child (NxDomain.answersBelow). An existing name must be authoritative, hold no
        // CNAME, and be asked for a type it does not hold (else its own answer was found).
        boolean nodata = false;
        for (int s = 0; s < before; s += 1 + (probe.name[s] & 0xFF)) {
            int length = probe.nameLength - s;
            if (zone.inSoa(probe.name, s, length)) {
                return null;
            }
            byte[] any = answerToAny(table, probe.name, s, length);
            if (any != null) {
                boolean authoritative = (any[AnswerTable.headerAt(any) + 2] & FLAG_AA) != 0;
                if (s == 0) {
                    if (!authoritative || !absentType(probe.type) || holdsCname(any)) {
                        return null;
                    }
                    nodata = true;
                } else if (!authoritative || !zone.answersBelow(probe.name, s, length)) {
                    return null;
                }
                break;
            }
        }
        int extra = probe.edns ? OPT_LENGTH : 0;
        if (zone.answerLength(before) + extra > sizeLimit(probe, transport)) {
            return null;
        }
        ByteBuf out = zone.answer(query, probe.nameLength, before, extra, alloc);
        if (nodata) {
            out.setByte(3, out.getByte(3) & ~0xF); // NOERROR: the name exists
        }
        return finish(out, query, probe, opt);
    }

    /** Whether the answer to ANY in {@code entry} starts with a CNAME record. */
    private static boolean holdsCname(byte[] entry) {
        int header = AnswerTable.headerAt(entry);
        if (((entry[header + 6] & 0xFF) << 8 | (entry[header + 7] & 0xFF)) == 0) {
            return false; // no answer records: an empty non-terminal
        }
        int p = AnswerTable.afterNameAt(entry) + 4; // the first record's owner, after QTYPE and QCLASS
        while (p < entry.length && (entry[p] & 0xC0) != 0xC0 && entry[p] != 0) {
            p += 1 + (entry[p] & 0xFF);
        }
        p += p < entry.length && (entry[p] & 0xC0) == 0xC0 ? 2 : 1;
        return p + 1 >= entry.length || ((entry[p] & 0xFF) << 8 | (entry[p + 1] & 0xFF)) == Type.CNAME;
    }

    /** The entry kept for {@code probe}'s name and type: rendered at load, or learned since. */
    private byte[] kept(Key probe) {
        byte[] entry = prepared.get(probe.hash, probe.name, probe.nameLength, probe.type);
        return entry != null ? entry : learned.get(probe);
    }

    /**
     * The answer sent instead of a rate-limited one (the "slip" of RRL): the query's header and
     * question with QR and TC set, nothing else, so that a real client retries over TCP. {@code null}
     * (drop it) for a query that is not in its plain form.
     */
    ByteBuf truncated(ByteBuf query, ByteBufAllocator alloc) {
        Key probe = probes.get();
        if (!probe.parse(query)) {
            return null;
        }
        int q = query.readerIndex();
        int length = HEADER + probe.nameLength + 4;
        ByteBuf out = alloc.ioBuffer(length);
        out.writeBytes(query, q, length);
        out.setByte(2, 0x80 | 0x02 | (query.getByte(q + 2) & FLAG_RD)); // QR, opcode QUERY, TC, RD
        out.setByte(3, query.getByte(q + 3) & FLAG_CD);
        out.setShort(6, 0);
        out.setShort(8, 0);
        out.setShort(10, 0);
        return out;
    }

    /** {@link QueryHandler#sizeLimit}, for a query in its plain form. */
    private int sizeLimit(Key probe, QueryHandler.Transport transport) {
        if (transport == QueryHandler.Transport.TCP) {
            return QueryHandler.TCP_SIZE;
        }
        return probe.edns ? Math.min(Math.max(probe.payload, QueryHandler.CLASSIC_UDP_SIZE), udpPayload)
                : QueryHandler.CLASSIC_UDP_SIZE;
    }

    /**
     * Renders the whole (never truncated) response, without EDNS, to the question of {@code query}
     * with the slow path, as an {@link AnswerTable} entry, and keeps it unless it is not worth
     * keeping ({@link #keepable}) or the learned answers are full. {@code null} when nothing is to
     * be sent, or the response does not hold the question as asked (the slow path then answers).
     */
    private byte[] learn(Key probe, ByteBuf query) {
        byte[] plain = new byte[HEADER + probe.nameLength + 4];
        query.getBytes(query.readerIndex(), plain);
        plain[10] = 0; // ARCOUNT: the OPT, if any, left out
        plain[11] = 0;
        byte[] response = slow.handle(plain, QueryHandler.Transport.TCP).orElse(null);
        if (response == null || !asked(response, probe)) {
            return null;
        }
        byte[] entry = AnswerTable.entry(probe.name, probe.nameLength, probe.type, response);
        if (keepable(response) && learning.get() < MAX_LEARNED && learning.incrementAndGet() <= MAX_LEARNED) {
            learned.putIfAbsent(probe.copy(), entry);
        }
        return entry;
    }

    /** An answer worth keeping: NOERROR or NXDOMAIN, not REFUSED (a name outside the zones) or SERVFAIL. */
    private static boolean keepable(byte[] response) {
        int rcode = response[3] & 0xF;
        return rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN;
    }

    /** Whether {@code response} has one question, whose name is {@code probe}'s, in any case. */
    private static boolean asked(byte[] response, Key probe) {
        if (response.length < HEADER + probe.nameLength + 4 || response[4] != 0 || response[5] != 1) {
            return false;
        }
        for (int i = 0; i < probe.nameLength; i++) {
            if (Key.lowerCase(response[HEADER + i]) != probe.name[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The answer of {@code entry} (rendered without EDNS) with the query's ID, RD, CD and question
     * (its name as the query spells it, its type) and, when the query has EDNS, the OPT record the
     * slow path would have put last ({@code opt}, with the query's DO bit).
     */
    private static ByteBuf patched(byte[] entry, ByteBuf query, Key probe, byte[] opt, ByteBufAllocator alloc) {
        int q = query.readerIndex();
        int header = AnswerTable.headerAt(entry);
        int qclass = AnswerTable.afterNameAt(entry) + 2;
        ByteBuf out = alloc.ioBuffer(AnswerTable.answerLength(entry) + (probe.edns ? OPT_LENGTH : 0));
        out.writeBytes(entry, header, HEADER);
        out.writeBytes(query, q + HEADER, probe.nameLength + 2); // the question's name and type
        out.writeBytes(entry, qclass, entry.length - qclass);
        return finish(out, query, probe, opt);
    }

    /**
     * {@code out}, an answer without EDNS, with the query's ID, RD and CD and, when the query has
     * EDNS, the OPT record the slow path would have put last ({@code opt}, with the query's DO bit).
     */
    private static ByteBuf finish(ByteBuf out, ByteBuf query, Key probe, byte[] opt) {
        int q = query.readerIndex();
        out.setShort(0, query.getShort(q));
        out.setByte(2, (out.getByte(2) & ~FLAG_RD) | (query.getByte(q + 2) & FLAG_RD));
        out.setByte(3, (out.getByte(3) & ~FLAG_CD) | (query.getByte(q + 3) & FLAG_CD));
        if (probe.edns) {
            out.setShort(10, out.getUnsignedShort(10) + 1);
            out.writeBytes(opt);
            out.setByte(out.writerIndex() - OPT_FLAGS_FROM_END, probe.dnssecOk);
        }
        return out;
    }

    /** The OPT record of an answer with EDNS, DO clear: root name, OPT, {@code udpPayload}, rcode, version, flags, no options. */
    private static byte[] opt(int udpPayload) {
        return new byte[] {0, 0, (byte) Type.OPT, (byte) (udpPayload >>> 8), (byte) udpPayload, 0, 0, 0, 0, 0, 0};
    }

    /**
     * The lookup key of a query: its name in lower case (wire form) and type; whether it has EDNS,
     * its UDP size and DO bit go with it but are not part of the key. One mutable instance per
     * thread parses each query, so a lookup allocates nothing; the map holds copies.
     */
    static final class Key {
        private byte[] name = new byte[MAX_NAME];
        private int nameLength;
        private int nameHash;
        private int type;
        private boolean edns;
        private int payload;
        private int dnssecOk; // FLAG_DO or 0: patched into the answer, not part of the key
        private int hash;

        /** Looks up {@code type} for this name from now on. */
        void type(int type) {
            this.type = type;
            this.hash = 31 * nameHash + type;
        }

        /** Reads a query in its plain form (see the class comment); false for anything else. */
        boolean parse(ByteBuf q) {
            int start = q.readerIndex();
            int end = q.writerIndex();
            if (end - start < HEADER + 5) {
                return false;
            }
            int flags = q.getUnsignedByte(start + 2);
            if ((flags & 0xF8) != 0 // QR and opcode
                    || q.getUnsignedShort(start + 4) != 1 || q.getUnsignedShort(start + 6) != 0
                    || q.getUnsignedShort(start + 8) != 0) {
                return false;
            }
            int additional = q.getUnsignedShort(start + 10);
            if (additional > 1) {
                return false;
            }
            int p = start + HEADER;
            int n = 0;
            int h = 1;
            while (true) {
                if (p >= end) {
                    return false;
                }
                int length = q.getUnsignedByte(p++);
                if (length == 0) {
                    name[n++] = 0;
                    break;
                }
                // A compression pointer (0xC0) or a reserved label type (0x40, 0x80): not plain.
                if (length > 63 || n + 1 + length + 1 > MAX_NAME || p + length > end) {
                    return false;
                }
                name[n++] = (byte) length;
                h = 31 * h + length;
                for (int i = 0; i < length; i++) {
                    byte c = lowerCase(q.getByte(p++));
                    name[n++] = c;
                    h = 31 * h + c;
                }
            }
            if (p + 4 > end || q.getUnsignedShort(p + 2) != DClass.IN) {
                return false;
            }
            int t = q.getUnsignedShort(p);
            if (t == Type.AXFR || t == Type.IXFR || t == Type.OPT) {
                return false;
            }
            p += 4;
            boolean opt = additional == 1;
            if (opt) {
                // Root owner, type OPT, class = payload size, TTL = ext-rcode, version, flags; no options.
                if (p + 11 != end || q.getByte(p) != 0 || q.getUnsignedShort(p + 1) != Type.OPT
                        || q.getByte(p + 6) != 0 || q.getUnsignedShort(p + 9) != 0) {
                    return false;
                }
                payload = q.getUnsignedShort(p + 3);
                dnssecOk = q.getByte(p + 7) & FLAG_DO;
            } else if (p != end) {
                return false;
            }
            nameLength = n;
            nameHash = h;
            edns = opt;
            type(t);
            return true;
        }

        /** {@code c} in lower case: RFC 4343, only ASCII letters fold. */
        static byte lowerCase(byte c) {
            return c >= 'A' && c <= 'Z' ? (byte) (c + ('a' - 'A')) : c;
        }

        /**
         * The hash of the key of {@code type} and the name at {@code offset} in {@code name} (wire
         * form, lower case, {@code nameLength} bytes with the root): what {@link #parse} computes
         * for a query's name as it reads it.
         */
        static int hash(byte[] name, int offset, int nameLength, int type) {
            int h = 1;
            for (int i = offset; i < offset + nameLength - 1; i++) {
                h = 31 * h + name[i];
            }
            return 31 * h + type;
        }

        Key copy() {
            Key k = new Key();
            k.name = Arrays.copyOf(name, nameLength);
            k.nameLength = nameLength;
            k.nameHash = nameHash;
            k.type(type);
            return k;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.type == type && k.nameLength == nameLength
                    && Arrays.equals(k.name, 0, nameLength, name, 0, nameLength);
        }
    }
}
