package dev.webstack.dns;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.xbill.DNS.ClientSubnetOption;
import org.xbill.DNS.CookieOption;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.GenericEDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSIDOption;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TcpKeepaliveOption;
import org.xbill.DNS.Type;

/**
 * Seeded generator of hostile DNS packets for the fuzz tests: valid queries to the test zones
 * (every type, EDNS with and without options, other classes and opcodes), then one to three
 * mutations each, chosen to reach the parsers' edge cases rather than only random bytes: bit flips,
 * truncation, extension, count fields (up to 65535), label lengths (including the reserved 0x40 and
 * 0x80 label types), compression pointers (to themselves, in a loop of two, forward, past the end,
 * into the header), OPT records with broken option lengths, questions repeated under a large
 * QDCOUNT, splices of two queries; and wholly random packets.
 *
 * <p>The same seed gives the same packets, so a failure names the seed and index to replay.
 */
final class PacketMutator {
    private static final String[] NAMES = {
        "foobar.com.", "www.foobar.com.", "mail.foobar.com.", "nope.foobar.com.", "example.test.", "ns1.example.test.",
        "mail.example.test.", "c1.example.test.", "loop1.example.test.", "x.wild.example.test.", "host.wild.example.test.",
        "b.ent.example.test.", "sub.example.test.", "deep.in.sub.example.test.", "big.example.test.", "medium.example.test.",
        "missing.example.test.", "www.example.org.", ".",
        "a.very.long.name.with.many.labels.below.the.test.zone.that.is.still.well.inside.the.limit.example.test."
    };
    private static final int[] TYPES = {
        Type.A, Type.AAAA, Type.CNAME, Type.NS, Type.SOA, Type.MX, Type.TXT, Type.SRV, Type.CAA, Type.PTR, Type.ANY,
        Type.AXFR, Type.IXFR, Type.DS, Type.DNSKEY, Type.HTTPS, 0, 65535
    };

    private final Random random;
    private final List<byte[]> seeds;

    PacketMutator(long seed) {
        this.random = new Random(seed);
        this.seeds = seeds(new Random(seed ^ 0x5EED));
    }

    /** The valid queries the mutations start from. */
    List<byte[]> seeds() {
        return seeds;
    }

    /** The next packet: one in 16 wholly random, the others a seed with one to three mutations. */
    byte[] next() {
        if (random.nextInt(16) == 0) {
            return randomBytes(random.nextInt(600));
        }
        byte[] packet = seeds.get(random.nextInt(seeds.size()));
        int mutations = 1 + random.nextInt(3);
        for (int i = 0; i < mutations; i++) {
            packet = mutate(packet);
        }
        return packet;
    }

    private byte[] mutate(byte[] in) {
        byte[] p = in.clone();
        switch (random.nextInt(11)) {
            case 0 -> { // bit flips
                for (int i = 1 + random.nextInt(8); i > 0 && p.length > 0; i--) {
                    int bit = random.nextInt(p.length * 8);
                    p[bit / 8] ^= (byte) (1 << (bit % 8));
                }
            }
            case 1 -> { // bytes set to random or boundary values
                for (int i = 1 + random.nextInt(4); i > 0 && p.length > 0; i--) {
                    p[random.nextInt(p.length)] = (byte) pick(0x00, 0xFF, 0xC0, 0x3F, 0x40, 0x80, random.nextInt(256));
                }
            }
            case 2 -> p = Arrays.copyOf(p, random.nextInt(p.length + 1)); // truncated
            case 3 -> { // extended with random bytes
                byte[] tail = randomBytes(1 + random.nextInt(64));
                p = Arrays.copyOf(p, p.length + tail.length);
                System.arraycopy(tail, 0, p, in.length, tail.length);
            }
            case 4 -> { // a count field: QD, AN, NS or AR
                if (p.length >= 12) {
                    int field = 4 + 2 * random.nextInt(4);
                    int count = pick(0, 1, 2, 255, 256, 65535, random.nextInt(65536));
                    p[field] = (byte) (count >> 8);
                    p[field + 1] = (byte) count;
                }
            }
            case 5 -> labelLength(p);
            case 6 -> p = compressionPointer(p);
            case 7 -> p = brokenOpt(p);
            case 8 -> p = repeatedQuestion(p);
            case 9 -> { // spliced: the head of this packet, the tail of another
                byte[] other = seeds.get(random.nextInt(seeds.size()));
                int cut = random.nextInt(p.length + 1);
                int from = random.nextInt(other.length + 1);
                byte[] spliced = Arrays.copyOf(p, cut + other.length - from);
                System.arraycopy(other, from, spliced, cut, other.length - from);
                p = spliced;
            }
            default -> { // header flags and opcode
                if (p.length >= 4) {
                    p[2] = (byte) random.nextInt(256);
                    p[3] = (byte) random.nextInt(256);
                }
            }
        }
        return p;
    }

    /** A label length byte of the question name set to anything, reserved label types included. */
    private void labelLength(byte[] p) {
        List<Integer> lengths = new ArrayList<>();
        int i = 12;
        while (i < p.length && p[i] != 0 && (p[i] & 0xC0) == 0) {
            lengths.add(i);
            i += 1 + p[i];
        }
        if (i < p.length) {
            lengths.add(i);
        }
        if (!lengths.isEmpty()) {
            p[lengths.get(random.nextInt(lengths.size()))] = (byte) pick(0, 1, 63, 64, 0x40, 0x80, 0xBF, random.nextInt(256));
        }
    }

    /**
     * A compression pointer written over the question name (or after one of its labels): to itself,
     * to a second pointer that points back (a loop), forward, past the end, or into the header.
     */
    private byte[] compressionPointer(byte[] in) {
        if (in.length < 14) {
            return in;
        }
        byte[] p = in.length < 20 ? Arrays.copyOf(in, 20) : in.clone();
        int at = 12;
        if (random.nextBoolean() && (p[12] & 0xC0) == 0 && p[12] != 0 && 12 + 1 + p[12] < p.length - 2) {
            at = 12 + 1 + p[12]; // after the first label
        }
        int target = switch (random.nextInt(6)) {
            case 0 -> at; // itself
            case 1 -> at + 2; // forward, to what follows
            case 2 -> random.nextInt(12); // into the header
            case 3 -> p.length < 0x3FFF ? p.length + random.nextInt(0x3FFF - p.length) : 0x3FFF; // past the end
            case 4 -> 12; // the name's start: a loop when at is after a label
            default -> random.nextInt(0x4000);
        };
        p[at] = (byte) (0xC0 | (target >> 8));
        p[at + 1] = (byte) target;
        if (random.nextInt(4) == 0 && at + 4 <= p.length) {
            // A loop of two: the pointer's target is another pointer back to it.
            p[at] = (byte) (0xC0 | ((at + 2) >> 8));
            p[at + 1] = (byte) (at + 2);
            p[at + 2] = (byte) (0xC0 | (at >> 8));
            p[at + 3] = (byte) at;
        }
        return p;
    }

    /** An OPT record appended with ARCOUNT raised, its RDLENGTH or an option's length wrong. */
    private byte[] brokenOpt(byte[] in) {
        if (in.length < 12) {
            return in;
        }
        int options = random.nextInt(4);
        byte[] rdata = new byte[options * 4 + random.nextInt(16)];
        for (int i = 0; i < options; i++) {
            int code = pick(3, 8, 10, 11, 12, 15, random.nextInt(65536));
            int length = pick(0, 1, 2, 4, 0xFFFF, random.nextInt(64));
            rdata[4 * i] = (byte) (code >> 8);
            rdata[4 * i + 1] = (byte) code;
            rdata[4 * i + 2] = (byte) (length >> 8);
            rdata[4 * i + 3] = (byte) length;
        }
        int rdlength = random.nextBoolean() ? rdata.length : pick(0, 0xFFFF, rdata.length + 1, random.nextInt(65536));
        byte[] p = Arrays.copyOf(in, in.length + 11 + rdata.length);
        int o = in.length;
        p[o] = 0; // root owner
        p[o + 1] = 0;
        p[o + 2] = (byte) Type.OPT;
        int size = pick(0, 511, 512, 1232, 4096, 65535);
        p[o + 3] = (byte) (size >> 8);
        p[o + 4] = (byte) size;
        p[o + 5] = (byte) pick(0, 1, random.nextInt(256)); // extended rcode
        p[o + 6] = (byte) pick(0, 0, 1, 255); // version
        p[o + 7] = (byte) pick(0, 0x80); // DO
        p[o + 9] = (byte) (rdlength >> 8);
        p[o + 10] = (byte) rdlength;
        System.arraycopy(rdata, 0, p, o + 11, rdata.length);
        int additional = ((p[10] & 0xFF) << 8 | (p[11] & 0xFF)) + 1;
        p[10] = (byte) (additional >> 8);
        p[11] = (byte) additional;
        return p;
    }

    /** The question repeated up to a few hundred times, QDCOUNT saying so (or not quite). */
    private byte[] repeatedQuestion(byte[] in) {
        int end = questionEnd(in);
        if (end < 0) {
            return in;
        }
        int times = 2 + random.nextInt(300);
        byte[] question = Arrays.copyOfRange(in, 12, end);
        byte[] p = Arrays.copyOf(in, 12 + times * question.length);
        for (int i = 1; i < times; i++) {
            System.arraycopy(question, 0, p, 12 + i * question.length, question.length);
        }
        int count = times + pick(0, 0, 1, -1);
        p[4] = (byte) (count >> 8);
        p[5] = (byte) count;
        return p;
    }

    /** The offset after the first question when its name is uncompressed, else -1. */
    private static int questionEnd(byte[] p) {
        int i = 12;
        while (i < p.length && p[i] != 0) {
            if ((p[i] & 0xC0) != 0) {
                return -1;
            }
            i += 1 + p[i];
        }
        return i + 5 <= p.length ? i + 5 : -1;
    }

    private int pick(int... values) {
        return values[random.nextInt(values.length)];
    }

    private byte[] randomBytes(int length) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        return b;
    }

    private static List<byte[]> seeds(Random random) {
        List<byte[]> seeds = new ArrayList<>();
        for (String name : NAMES) {
            for (int type : TYPES) {
                String variant = random.nextBoolean() ? ResponderTest.mixedCase(name, random) : name;
                seeds.add(query(variant, type, DClass.IN, Opcode.QUERY, null, random));
                seeds.add(query(variant, type, DClass.IN, Opcode.QUERY, new OPTRecord(1232, 0, 0), random));
            }
            seeds.add(query(name, Type.A, DClass.CH, Opcode.QUERY, null, random));
            seeds.add(query(name, Type.A, DClass.ANY, Opcode.QUERY, null, random));
            seeds.add(query(name, Type.SOA, DClass.IN, Opcode.NOTIFY, null, random));
            seeds.add(query(name, Type.SOA, DClass.IN, Opcode.UPDATE, null, random));
            seeds.add(query(name, Type.A, DClass.IN, Opcode.QUERY, new OPTRecord(512, 0, 1), random));
            seeds.add(query(name, Type.A, DClass.IN, Opcode.QUERY, new OPTRecord(4096, 0, 0, Flags.DO, options()), random));
        }
        return List.copyOf(seeds);
    }

    private static List<EDNSOption> options() {
        try {
            return List.of(new CookieOption(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), new NSIDOption(new byte[0]),
                    new ClientSubnetOption(24, InetAddress.getByName("192.0.2.0")), new TcpKeepaliveOption(),
                    new GenericEDNSOption(12, new byte[16])); // padding (RFC 7830)
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] query(String name, int type, int dclass, int opcode, OPTRecord opt, Random random) {
        Message m = new Message(random.nextInt(65536));
        m.getHeader().setOpcode(opcode);
        if (random.nextBoolean()) {
            m.getHeader().setFlag(Flags.RD);
        }
        m.addRecord(Record.newRecord(Name.fromConstantString(name), type, dclass), Section.QUESTION);
        if (opt != null) {
            m.addRecord(opt, Section.ADDITIONAL);
        }
        return m.toWire();
    }
}
