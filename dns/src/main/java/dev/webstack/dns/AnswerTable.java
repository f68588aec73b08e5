package dev.webstack.dns;

import java.util.Arrays;
import java.util.List;

/**
 * The answers {@link Responder} renders at load, one array per answer, in an open-addressing
 * table: what a {@code ConcurrentHashMap<Key, byte[]>} held in four objects per answer.
 *
 * <p>Why: a zone of 100,000 names has 300,000 precompiled answers. In the map each one took a
 * node, a key object, the key's copy of the name, and the answer's bytes, which held the name a
 * second time (the question). With the zone's records, 117 MB of live heap for a 2.4 MB zone
 * file; 85 MB with this table. Here an answer is one {@code byte[]}, an <em>entry</em>:
 * <pre>
 *   [0]                 n, the length of the name in wire form (1-255)
 *   [1, 1 + n)          the name, wire form, lower case: the key, and the answer's question name
 *   [1 + n, 5 + n)      the key's type (an int, big-endian; Responder's ABSENT is -1)
 *   [5 + n, 17 + n)     the answer's header
 *   [17 + n, end)       the answer after its question name: QTYPE, QCLASS, the sections
 * </pre>
 * The question name is not stored twice because {@link Responder} writes the query's own name there
 * anyway (its case is the client's). Compression pointers in the sections point to offset 12 and
 * on, where the question name is in every answer sent, whoever wrote it.
 *
 * <p>The table is built once and never changed, so the event loops read it without locks: linear
 * probing over a power-of-two array of entries, with each entry's hash beside it so that a probe
 * compares bytes only when the hashes agree.
 */
final class AnswerTable {
    private static final int HEADER = 12;
    /** The name's length byte and the key's type: an entry is the answer plus this. */
    static final int OVERHEAD = 1 + 4;

    private final byte[][] entries;
    private final int[] hashes;
    private final int shift;
    private final int size;

    private AnswerTable(byte[][] entries, int[] hashes, int shift, int size) {
        this.entries = entries;
        this.hashes = hashes;
        this.shift = shift;
        this.size = size;
    }

    /** The table of no answers. */
    static AnswerTable empty() {
        return of(List.of(), List.of());
    }

    /**
     * The table of {@code entries}, each found under the hash at the same index of {@code hashes}
     * ({@link Responder.Key#hashCode}). When two entries have the same key, the first one is kept.
     */
    static AnswerTable of(List<byte[]> entries, List<Integer> hashes) {
        if (entries.size() != hashes.size()) {
            throw new IllegalArgumentException(entries.size() + " entries, " + hashes.size() + " hashes");
        }
        // At most three quarters full: about 1.5 probes per hit.
        int bits = Math.max(4, 32 - Integer.numberOfLeadingZeros(entries.size() * 4 / 3));
        byte[][] table = new byte[1 << bits][];
        int[] tableHashes = new int[1 << bits];
        int shift = 32 - bits;
        int size = 0;
        for (int e = 0; e < entries.size(); e++) {
            byte[] entry = entries.get(e);
            int hash = hashes.get(e);
            int mask = table.length - 1;
            int i = index(hash, shift);
            while (table[i] != null && !(tableHashes[i] == hash && sameKey(table[i], entry))) {
                i = (i + 1) & mask;
            }
            if (table[i] == null) {
                table[i] = entry;
                tableHashes[i] = hash;
                size++;
            }
        }
        return new AnswerTable(table, tableHashes, shift, size);
    }

    /**
     * The entry for {@code name} (its first {@code nameLength} bytes, wire form, lower case) and
     * {@code type}, whose key's hash is {@code hash}, or {@code null}.
     */
    byte[] get(int hash, byte[] name, int nameLength, int type) {
        return get(hash, name, 0, nameLength, type);
    }

    /** {@link #get(int, byte[], int, int)} for the name at {@code offset} in {@code name}. */
    byte[] get(int hash, byte[] name, int offset, int nameLength, int type) {
        int mask = entries.length - 1;
        for (int i = index(hash, shift); ; i = (i + 1) & mask) {
            byte[] entry = entries[i];
            if (entry == null) {
                return null;
            }
            if (hashes[i] == hash && matches(entry, name, offset, nameLength, type)) {
                return entry;
            }
        }
    }

    /** How many answers the table holds. */
    int size() {
        return size;
    }

    /**
     * The entry of {@code answer} (a whole response whose question name is {@code name}'s first
     * {@code nameLength} bytes, in any case) under the key {@code (name, type)}.
     */
    static byte[] entry(byte[] name, int nameLength, int type, byte[] answer) {
        int rest = answer.length - HEADER - nameLength;
        if (nameLength < 1 || nameLength > 255 || rest < 4) {
            throw new IllegalArgumentException("name of " + nameLength + " bytes in an answer of " + answer.length);
        }
        byte[] entry = new byte[OVERHEAD + answer.length];
        entry[0] = (byte) nameLength;
        System.arraycopy(name, 0, entry, 1, nameLength);
        int t = 1 + nameLength;
        entry[t] = (byte) (type >>> 24);
        entry[t + 1] = (byte) (type >>> 16);
        entry[t + 2] = (byte) (type >>> 8);
        entry[t + 3] = (byte) type;
        System.arraycopy(answer, 0, entry, t + 4, HEADER);
        System.arraycopy(answer, HEADER + nameLength, entry, t + 4 + HEADER, rest);
        return entry;
    }

    /** The length of the name in {@code entry}, in wire form. */
    static int nameLength(byte[] entry) {
        return entry[0] & 0xFF;
    }

    /** Where the answer's header starts in {@code entry}. */
    static int headerAt(byte[] entry) {
        return 1 + nameLength(entry) + 4;
    }

    /** The answer's rcode (its header's four low bits) in {@code entry}. */
    static int rcode(byte[] entry) {
        return entry[headerAt(entry) + 3] & 0xF;
    }

    /** Where the answer's QTYPE starts in {@code entry}: the header's end, as the name is not stored there. */
    static int afterNameAt(byte[] entry) {
        return headerAt(entry) + HEADER;
    }

    /** The length of the answer {@code entry} holds, its question name included. */
    static int answerLength(byte[] entry) {
        return entry.length - OVERHEAD;
    }

    private static int index(int hash, int shift) {
        return (hash * 0x9E3779B9) >>> shift; // Fibonacci hashing: the high bits of the product
    }

    private static boolean matches(byte[] entry, byte[] name, int offset, int nameLength, int type) {
        return (entry[0] & 0xFF) == nameLength && type(entry) == type
                && Arrays.equals(entry, 1, 1 + nameLength, name, offset, offset + nameLength);
    }

    private static boolean sameKey(byte[] a, byte[] b) {
        int n = a[0] & 0xFF;
        return (b[0] & 0xFF) == n && Arrays.equals(a, 1, 5 + n, b, 1, 5 + n);
    }

    /** The key's type in {@code entry}. */
    static int type(byte[] entry) {
        int t = 1 + (entry[0] & 0xFF);
        return (entry[t] << 24) | ((entry[t + 1] & 0xFF) << 16) | ((entry[t + 2] & 0xFF) << 8) | (entry[t + 3] & 0xFF);
    }
}
