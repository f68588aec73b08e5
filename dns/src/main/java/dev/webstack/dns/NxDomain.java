package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * The NXDOMAIN answer of one zone to a name whose closest encloser (RFC 4592) is the zone's apex,
 * kept as a template that is filled in with each query's name: the fast path for absent names.
 *
 * <p>Why: every absent name has its own answer (its question differs), so {@link Responder} could
 * only keep the first ones it rendered. A flood of random names below a zone, the usual attack on
 * an authoritative server, then went through dnsjava's parser and renderer for each query. Yet all
 * those answers are the same bytes but for the question: the header (NXDOMAIN, AA), the SOA in the
 * authority section with the negative TTL. Only the compression pointers move, as the SOA's names
 * point into the question's name, whose length varies.
 *
 * <p>So at load the slow path renders the answer to one absent name right below the apex; {@link
 * #of} notes where its compression pointers are, and {@link #answer} writes the query's question
 * in the template's place and moves each pointer by the difference in length. A query qualifies
 * only when the answer cannot be anything else: the name is below the apex and does not exist, the
 * zone has no wildcard right below its apex, and the type is one the slow path answers by the
 * lookup alone ({@link Responder#absentType} or ANY). If an ancestor of the name below the apex
 * exists (the closest encloser), it must be in the zone's authoritative data (not at or below a
 * zone cut), have no wildcard right below it, and the zone must hold no DNAME ({@link
 * #answersBelow}): then the answer is the same NXDOMAIN with the SOA. Nor may the name end with
 * the SOA's MNAME or RNAME, or a part of them below the apex ({@link #inSoa}), as those would be
 * compressed against the question in another way. Whether a name exists is read from the
 * precompiled answers, which hold the answer to ANY for every name of the zone, empty non-terminals
 * included; whether it is authoritative, from that answer's AA bit.
 */
final class NxDomain {
    private static final int HEADER = 12;
    /** The most wildcards a zone may hold for names below its other names to be answered here. */
    private static final int MAX_WILDCARDS = 16;

    /** The apex in wire form, lower case. */
    private final byte[] apex;
    /** The answer to the name {@code prefix} bytes long plus the apex, without EDNS. */
    private final byte[] template;
    private final int prefix;
    /** Where the template's compression pointers are; each points into the question's apex or beyond. */
    private final int[] pointers;
    /** The names of the zone with a wildcard right below them (wire form, lower case); {@code null} for too many. */
    private final byte[][] wildcardParents;
    /** Whether the zone holds a DNAME, below which names are not absent but rewritten. */
    private final boolean dname;
    /**
     * The names the SOA's MNAME and RNAME end with that are longer than the apex (wire form, lower
     * case): a query name that ends with one of them has that part of the SOA compressed against
     * its question, elsewhere than the template's pointers.
     */
    private final byte[][] soaSuffixes;

    private NxDomain(byte[] apex, byte[] template, int prefix, int[] pointers, byte[][] wildcardParents, boolean dname,
                     byte[][] soaSuffixes) {
        this.apex = apex;
        this.template = template;
        this.prefix = prefix;
        this.pointers = pointers;
        this.wildcardParents = wildcardParents;
        this.dname = dname;
        this.soaSuffixes = soaSuffixes;
    }

    /**
     * The template of {@code zone}, or {@code null} when the zone's answers to absent names cannot
     * be one: a wildcard right below the apex, or an answer of another shape than NXDOMAIN with
     * one SOA record in the authority section.
     *
     * @param exists whether a name (wire form, lower case) is in the zone
     * @param render the slow path's whole answer, without EDNS, to a question of type A
     */
    static NxDomain of(ZoneData zone, Predicate<byte[]> exists, Function<Name, byte[]> render) {
        byte[] apex = lowerWire(zone.origin());
        if (exists.test(concat(new byte[] {1, '*'}, apex))) {
            return null;
        }
        List<byte[]> soaSuffixes = new ArrayList<>();
        for (Name name : List.of(zone.soa().getHost(), zone.soa().getAdmin())) {
            for (Name n = name; n.subdomain(zone.origin()) && n.labels() > zone.origin().labels(); n = new Name(n, 1)) {
                soaSuffixes.add(lowerWire(n));
            }
        }
        Name absent = null;
        for (int i = 0; absent == null && i < 1000; i++) {
            Name candidate = Name.fromConstantString("nx-" + i + "." + zone.origin());
            byte[] wire = lowerWire(candidate);
            if (!exists.test(wire) && soaSuffixes.stream().noneMatch(suffix -> Arrays.equals(suffix, wire))) {
                absent = candidate;
            }
        }
        if (absent == null) {
            return null;
        }
        int prefix = absent.length() - apex.length;
        byte[] answer = render.apply(absent);
        if (answer == null || answer.length < HEADER + absent.length() + 4 || (answer[3] & 0xF) != Rcode.NXDOMAIN
                || (answer[2] & 0x04) == 0 // AA
                || count(answer, 4) != 1 || count(answer, 6) != 0 || count(answer, 8) != 1 || count(answer, 10) != 0) {
            return null;
        }
        int[] pointers = soaPointers(answer, HEADER + absent.length() + 4, HEADER + prefix);
        if (pointers == null) {
            return null;
        }
        List<byte[]> wildcardParents = new ArrayList<>();
        boolean dname = false;
        for (var node : zone.names().entrySet()) {
            Name name = node.getKey();
            if (name.isWild()) {
                wildcardParents.add(lowerWire(new Name(name, 1)));
            }
            dname |= node.getValue().contains(Type.DNAME);
        }
        return new NxDomain(apex, answer, prefix, pointers,
                wildcardParents.size() > MAX_WILDCARDS ? null : wildcardParents.toArray(byte[][]::new), dname,
                soaSuffixes.toArray(byte[][]::new));
    }

    /**
     * Whether the name at {@code offset} in {@code name} ({@code length} bytes), an ancestor of a
     * query name below the apex, is one that the SOA's MNAME or RNAME ends with: then the slow path
     * compresses those against the question in a way the template does not, and answers instead.
     */
    boolean inSoa(byte[] name, int offset, int length) {
        for (byte[] suffix : soaSuffixes) {
            if (Arrays.equals(suffix, 0, suffix.length, name, offset, offset + length)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the answer to an absent name whose closest encloser is the existing name at {@code
     * offset} in {@code name} ({@code length} bytes), below the apex and in the zone's authoritative
     * data, is this template too: true unless that encloser has a wildcard right below it, or the
     * zone holds a DNAME (or more wildcards than are compared per query).
     */
    boolean answersBelow(byte[] name, int offset, int length) {
        if (dname || wildcardParents == null) {
            return false;
        }
        for (byte[] parent : wildcardParents) {
            if (Arrays.equals(parent, 0, parent.length, name, offset, offset + length)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the query name {@code name} (its first {@code length} bytes, wire form, lower case)
     * lies below this zone's apex, and if so, how many bytes come before the apex; -1 otherwise.
     */
    int below(byte[] name, int length) {
        int at = length - apex.length;
        if (at <= 0 || !Arrays.equals(name, at, length, apex, 0, apex.length)) {
            return -1;
        }
        // The apex must start at a label of the name, not inside one.
        int p = 0;
        while (p < at) {
            p += 1 + (name[p] & 0xFF);
        }
        return p == at ? at : -1;
    }

    /** The length of the apex, in wire form. */
    int apexLength() {
        return apex.length;
    }

    /** The length of the answer to a name {@code before} bytes longer than the apex. */
    int answerLength(int before) {
        return template.length + before - prefix;
    }

    /**
     * Writes the answer to the query at {@code query}'s reader index, whose name has {@code before}
     * bytes before this zone's apex and {@code nameLength} in all: the template with the query's ID,
     * RD and CD bits and question. The caller appends the OPT for EDNS.
     */
    ByteBuf answer(ByteBuf query, int nameLength, int before, int extra, ByteBufAllocator alloc) {
        int q = query.readerIndex();
        int delta = before - prefix;
        int rest = HEADER + prefix + apex.length + 2; // the template's QCLASS
        ByteBuf out = alloc.ioBuffer(template.length + delta + extra);
        out.writeBytes(template, 0, HEADER);
        out.writeBytes(query, q + HEADER, nameLength + 2); // the question's name and type
        out.writeBytes(template, rest, template.length - rest);
        for (int at : pointers) {
            int o = at + delta;
            out.setShort(o, 0xC000 | ((out.getUnsignedShort(o) & 0x3FFF) + delta));
        }
        return out;
    }

    /**
     * Where the compression pointers of the SOA record at {@code at} are (its owner, MNAME and
     * RNAME), or {@code null} when the record is not an SOA or a pointer does not point at or
     * beyond {@code lowest}.
     */
    private static int[] soaPointers(byte[] answer, int at, int lowest) {
        List<Integer> found = new ArrayList<>();
        int p = name(answer, at, lowest, found);
        if (p < 0 || p + 10 > answer.length || ((answer[p] & 0xFF) << 8 | (answer[p + 1] & 0xFF)) != Type.SOA) {
            return null;
        }
        int end = p + 10 + ((answer[p + 8] & 0xFF) << 8 | (answer[p + 9] & 0xFF));
        p = name(answer, p + 10, lowest, found);
        p = p < 0 ? p : name(answer, p, lowest, found);
        if (p < 0 || p + 20 != end || end != answer.length) {
            return null;
        }
        return found.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The end of the name at {@code p}, noting where its pointer is; -1 if malformed or pointing below {@code lowest}. */
    private static int name(byte[] answer, int p, int lowest, List<Integer> pointers) {
        while (p < answer.length) {
            int length = answer[p] & 0xFF;
            if (length == 0) {
                return p + 1;
            }
            if ((length & 0xC0) == 0xC0) {
                if (p + 1 >= answer.length || ((length & 0x3F) << 8 | (answer[p + 1] & 0xFF)) < lowest) {
                    return -1;
                }
                pointers.add(p);
                return p + 2;
            }
            if (length > 63) {
                return -1;
            }
            p += 1 + length;
        }
        return -1;
    }

    private static int count(byte[] answer, int at) {
        return (answer[at] & 0xFF) << 8 | (answer[at + 1] & 0xFF);
    }

    /** {@code name} in wire form, lower case. */
    static byte[] lowerWire(Name name) {
        return name.toWireCanonical();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
