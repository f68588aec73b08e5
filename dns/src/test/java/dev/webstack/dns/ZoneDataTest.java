package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/** How a zone's records become {@link ZoneData}: RRsets, checks, and the canonical order of its names. */
class ZoneDataTest {
    private static final Name ORIGIN = Name.fromConstantString("d.test.");
    private static final Path FILE = Path.of("d.test.zone");

    private static Record record(String name, long ttl, int type, String rdata) throws Exception {
        return Record.fromString(Name.fromString(name, ORIGIN), type, DClass.IN, ttl, rdata, ORIGIN);
    }

    private static Record soa(long serial) throws Exception {
        return record("@", 3600, Type.SOA, "ns.d.test. admin.d.test. " + serial + " 7200 900 1209600 60");
    }

    private static Record ns() throws Exception {
        return record("@", 3600, Type.NS, "ns.d.test.");
    }

    @Test
    void recordsAreGroupedIntoRRsetsWithOneTtlAndNoDuplicates() throws Exception {
        ZoneData zone = ZoneData.of(FILE, ORIGIN, List.of(soa(1), ns(),
                record("www", 300, Type.A, "192.0.2.1"),
                record("WWW", 60, Type.A, "192.0.2.2"),
                record("www", 300, Type.A, "192.0.2.1"),
                record("deep.below.x", 300, Type.TXT, "\"t\"")), List.of());

        RRset www = zone.exact(Name.fromString("www", ORIGIN), Type.A).orElseThrow();
        assertThat(www.size()).as("the same record twice is one record").isEqualTo(2);
        assertThat(www.getTTL()).as("an RRset has one TTL, the lowest given").isEqualTo(60);
        assertThat(zone.names()).as("the names between the apex and an owner exist, with no data")
                .containsEntry(Name.fromString("below.x", ORIGIN), java.util.Set.of())
                .containsEntry(Name.fromString("x", ORIGIN), java.util.Set.of());
        assertThat(zone.rrsets()).hasSize(4);
    }

    @Test
    void aZoneWithoutExactlyOneSoaAndAnNsRRsetAtTheApexIsRefused() throws Exception {
        assertThatThrownBy(() -> ZoneData.of(FILE, ORIGIN, List.of(ns(), record("www", 300, Type.A, "192.0.2.1")), List.of()))
                .hasMessage("d.test.: exactly 1 SOA must be specified");
        assertThatThrownBy(() -> ZoneData.of(FILE, ORIGIN, List.of(soa(1), soa(2), ns()), List.of()))
                .hasMessage("d.test.: exactly 1 SOA must be specified");
        assertThatThrownBy(() -> ZoneData.of(FILE, ORIGIN, List.of(soa(1)), List.of()))
                .hasMessage("d.test.: no NS set specified");
        assertThatThrownBy(() -> ZoneData.of(FILE, ORIGIN, List.of(record("www", 300, Type.A, "192.0.2.1")), List.of()))
                .hasMessage("d.test.: no data specified");
        Record lowSoa = Record.fromString(Name.fromString("sub", ORIGIN), Type.SOA, DClass.IN, 3600,
                "ns.d.test. admin.d.test. 1 7200 900 1209600 60", ORIGIN);
        assertThatThrownBy(() -> ZoneData.of(FILE, ORIGIN, List.of(soa(1), ns(), lowSoa), List.of()))
                .hasMessage("SOA owner sub.d.test. does not match zone origin d.test.");
    }

    @Test
    void canonicalKeysSortNamesAsRfc4034Section61() throws TextParseException {
        List<Name> names = new ArrayList<>();
        for (String s : List.of("d.test.", "a.d.test.", "A.d.test.", "ab.d.test.", "z.a.d.test.", "\\000.a.d.test.",
                "*.z.a.d.test.", "\\200.d.test.", "\\\\.d.test.", "Z.d.test.", "yljkjljk.a.d.test.", "zabc.a.d.test.",
                "\\001.z.d.test.", "z.d.test.", "e.test.", "test.", ".")) {
            names.add(Name.fromString(s));
        }
        // Random names from a small alphabet, so that shared prefixes and suffixes are common.
        byte[] alphabet = {'a', 'B', 'b', 'z', 'Z', '-', 0, 1, '[', '`', (byte) 0x7f, (byte) 0xff};
        Random random = new Random(4034);
        for (int i = 0; i < 2_000; i++) {
            StringBuilder name = new StringBuilder();
            for (int l = 1 + random.nextInt(3); l > 0; l--) {
                for (int n = 1 + random.nextInt(3); n > 0; n--) {
                    name.append(String.format("\\%03d", alphabet[random.nextInt(alphabet.length)] & 0xff));
                }
                name.append('.');
            }
            names.add(Name.fromString(name.append("test.").toString()));
        }
        List<Name> byCompareTo = new ArrayList<>(names);
        byCompareTo.sort(Name::compareTo);
        List<Name> byKey = new ArrayList<>(names);
        byKey.sort((a, b) -> Arrays.compare(ZoneData.canonicalKey(a), ZoneData.canonicalKey(b)));
        for (int i = 0; i < names.size(); i++) {
            assertThat(byKey.get(i).compareTo(byCompareTo.get(i))).as("position %d: %s, %s", i, byKey.get(i), byCompareTo.get(i)).isZero();
        }
    }
}
