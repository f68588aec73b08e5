package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnswerTableTest {
    private static final int HEADER = 12;

    @Test
    void anEntryHoldsTheNameOnceAndGivesBackTheAnswerAroundIt() {
        byte[] name = wire("www", "foobar", "com");
        // Header, the question (name in another case, type A, class IN), one answer record.
        byte[] answer = concat(header(0x1234, 1, 1), upper(name), new byte[] {0, 1, 0, 1},
                new byte[] {(byte) 0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 1});
        byte[] entry = AnswerTable.entry(name, name.length, 1, answer);

        assertThat(entry).hasSize(answer.length + AnswerTable.OVERHEAD);
        assertThat(AnswerTable.nameLength(entry)).isEqualTo(name.length);
        assertThat(AnswerTable.answerLength(entry)).isEqualTo(answer.length);
        int header = AnswerTable.headerAt(entry);
        assertThat(Arrays.copyOfRange(entry, header, header + HEADER)).isEqualTo(Arrays.copyOf(answer, HEADER));
        assertThat(Arrays.copyOfRange(entry, AnswerTable.afterNameAt(entry), entry.length))
                .isEqualTo(Arrays.copyOfRange(answer, HEADER + name.length, answer.length));
        assertThat(Arrays.copyOfRange(entry, 1, 1 + name.length)).as("the key's name, as given").isEqualTo(name);
    }

    @Test
    void findsEveryEntryUnderItsNameAndTypeAndNothingElse() {
        List<byte[]> names = new ArrayList<>();
        List<byte[]> entries = new ArrayList<>();
        List<Integer> hashes = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            byte[] name = wire("h" + i, "foobar", "com");
            names.add(name);
            for (int type : new int[] {1, 255, -1}) {
                entries.add(AnswerTable.entry(name, name.length, type, answer(name, i)));
                hashes.add(hash(name, type));
            }
        }
        AnswerTable table = AnswerTable.of(entries, hashes);
        assertThat(table.size()).isEqualTo(15_000);

        for (int i = 0; i < names.size(); i++) {
            byte[] name = names.get(i);
            for (int type : new int[] {1, 255, -1}) {
                byte[] found = table.get(hash(name, type), padded(name), name.length, type);
                assertThat(found).as("h%d type %d", i, type).isNotNull();
                assertThat(Arrays.copyOfRange(found, AnswerTable.afterNameAt(found), found.length))
                        .isEqualTo(Arrays.copyOfRange(answer(name, i), HEADER + name.length, answer(name, i).length));
            }
            assertThat(table.get(hash(name, 28), padded(name), name.length, 28)).as("a type not kept").isNull();
        }
        byte[] other = wire("h5000", "foobar", "com");
        assertThat(table.get(hash(other, 1), padded(other), other.length, 1)).as("a name not kept").isNull();
        byte[] shorter = wire("h1", "foobar");
        assertThat(table.get(hash(shorter, 1), padded(shorter), shorter.length, 1)).isNull();
    }

    @Test
    void keysWithOneHashAreToldApartByTheirBytes() {
        // Every key under the same hash: one run of linear probing, compared byte by byte.
        List<byte[]> entries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] name = wire("n" + i, "test");
            entries.add(AnswerTable.entry(name, name.length, 1, answer(name, i)));
        }
        AnswerTable table = AnswerTable.of(entries, entries.stream().map(e -> 7).toList());
        for (int i = 0; i < 40; i++) {
            byte[] name = wire("n" + i, "test");
            assertThat(table.get(7, padded(name), name.length, 1)).isSameAs(entries.get(i));
        }
        byte[] missing = wire("n40", "test");
        assertThat(table.get(7, padded(missing), missing.length, 1)).isNull();
    }

    @Test
    void ofTwoEntriesUnderOneKeyTheFirstIsKept() {
        byte[] name = wire("www", "test");
        byte[] first = AnswerTable.entry(name, name.length, 1, answer(name, 1));
        byte[] second = AnswerTable.entry(name, name.length, 1, answer(name, 2));
        AnswerTable table = AnswerTable.of(List.of(first, second), List.of(hash(name, 1), hash(name, 1)));

        assertThat(table.size()).isEqualTo(1);
        assertThat(table.get(hash(name, 1), name, name.length, 1)).isSameAs(first);
        assertThat(AnswerTable.empty().get(hash(name, 1), name, name.length, 1)).isNull();
    }

    @Test
    void anAnswerShorterThanItsQuestionIsRefused() {
        byte[] name = wire("www", "test");
        assertThatThrownBy(() -> AnswerTable.entry(name, name.length, 1, new byte[HEADER + name.length]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AnswerTable.of(List.of(), List.of(1))).isInstanceOf(IllegalArgumentException.class);
    }

    /** The name's labels in wire form, root included, lower case. */
    private static byte[] wire(String... labels) {
        StringBuilder out = new StringBuilder();
        for (String label : labels) {
            out.append((char) label.length()).append(label);
        }
        return (out + "\0").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** {@code name} in a buffer longer than it, as {@link Responder.Key} holds it. */
    private static byte[] padded(byte[] name) {
        byte[] out = Arrays.copyOf(name, 255);
        Arrays.fill(out, name.length, out.length, (byte) 'x');
        return out;
    }

    private static byte[] upper(byte[] name) {
        byte[] out = name.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= 'a' && out[i] <= 'z') {
                out[i] -= 'a' - 'A';
            }
        }
        return out;
    }

    /** An answer to {@code name} whose record's address ends in {@code n}. */
    private static byte[] answer(byte[] name, int n) {
        return concat(header(n, 1, 1), name, new byte[] {0, 1, 0, 1},
                new byte[] {(byte) 0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 10, (byte) (n >> 16), (byte) (n >> 8), (byte) n});
    }

    private static byte[] header(int id, int questions, int answers) {
        return new byte[] {(byte) (id >> 8), (byte) id, (byte) 0x84, 0, 0, (byte) questions, 0, (byte) answers, 0, 0, 0, 0};
    }

    /** The key's hash as {@link Responder.Key} computes it. */
    private static int hash(byte[] name, int type) {
        return Responder.Key.hash(name, 0, name.length, type);
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
