package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

/** What a zone's history keeps of its reloads, and what it gives back for a serial. */
class ZoneHistoryTest {
    private static final Name ORIGIN = Name.fromConstantString("h.test.");

    /** The zone h.test at {@code serial}: SOA, NS and the given records (master-file lines, origin h.test). */
    private static ZoneData zone(long serial, String... records) throws IOException {
        List<Record> all = new ArrayList<>();
        all.add(Record.fromString(ORIGIN, org.xbill.DNS.Type.SOA, org.xbill.DNS.DClass.IN, 3600,
                "ns.h.test. admin.h.test. " + serial + " 7200 900 1209600 60", ORIGIN));
        all.add(Record.fromString(ORIGIN, org.xbill.DNS.Type.NS, org.xbill.DNS.DClass.IN, 3600, "ns.h.test.", ORIGIN));
        for (String line : records) {
            String[] f = line.split(" ", 4); // name ttl type rdata
            all.add(Record.fromString(Name.fromString(f[0], ORIGIN), org.xbill.DNS.Type.value(f[2]), org.xbill.DNS.DClass.IN,
                    Long.parseLong(f[1]), f[3], ORIGIN));
        }
        return ZoneData.of(Path.of("h.test.zone"), ORIGIN, all, List.of());
    }

    private static List<String> text(List<Record> records) {
        return records.stream().map(r -> r.getName().relativize(ORIGIN) + " " + r.getTTL() + " " + r.rdataToString()).toList();
    }

    @Test
    void aReloadKeepsWhatItDeletedAndAddedTtlChangesIncluded() throws IOException {
        ZoneData v1 = zone(1, "a 300 A 192.0.2.1", "b 300 A 192.0.2.2", "c 300 A 192.0.2.3");
        ZoneData v2 = zone(2, "a 300 A 192.0.2.1", "b 60 A 192.0.2.2", "d 300 A 192.0.2.4").after(v1);

        assertThat(v1.history().differences()).isEmpty();
        ZoneHistory.Difference d = v2.history().since(1, 2).orElseThrow().getFirst();
        assertThat(d.from().getSerial()).isEqualTo(1);
        assertThat(d.to().getSerial()).isEqualTo(2);
        assertThat(text(d.deleted())).containsExactly("b 300 192.0.2.2", "c 300 192.0.2.3");
        assertThat(text(d.added())).containsExactly("b 60 192.0.2.2", "d 300 192.0.2.4");
        assertThat(v2.history().since(2, 2)).as("a chain from the current serial is empty, not asked for").isEmpty();
        assertThat(v2.history().since(7, 2)).as("a serial never served").isEmpty();
        assertThat(v2.history().since(1, 3)).as("a history that does not end at the zone's serial").isEmpty();
    }

    @Test
    void sameRecordsComparesEveryRecordAndItsTtlTheSoaIncluded() throws IOException {
        ZoneData zone = zone(1, "a 300 A 192.0.2.1", "a 300 A 192.0.2.9", "b 300 TXT \"x\"");
        assertThat(ZoneHistory.sameRecords(zone, zone(1, "b 300 TXT \"x\"", "a 300 A 192.0.2.9", "a 300 A 192.0.2.1")))
                .as("the same records in another order").isTrue();
        assertThat(ZoneHistory.sameRecords(zone, zone(1, "a 300 A 192.0.2.1", "a 60 A 192.0.2.9", "b 300 TXT \"x\"")))
                .as("one TTL changed").isFalse();
        assertThat(ZoneHistory.sameRecords(zone, zone(1, "a 300 A 192.0.2.1", "a 300 A 192.0.2.9", "b 300 TXT \"y\"")))
                .as("one record's data changed").isFalse();
        assertThat(ZoneHistory.sameRecords(zone, zone(1, "a 300 A 192.0.2.1", "b 300 TXT \"x\"")))
                .as("one record fewer").isFalse();
        assertThat(ZoneHistory.sameRecords(zone(1, "a 300 A 192.0.2.1", "b 300 TXT \"x\""), zone))
                .as("one record more").isFalse();
        assertThat(ZoneHistory.sameRecords(zone, zone(2, "a 300 A 192.0.2.1", "a 300 A 192.0.2.9", "b 300 TXT \"x\"")))
                .as("the SOA's serial").isFalse();
    }

    @Test
    void atMostFiveVersionsAreKept() throws IOException {
        List<String> base = new ArrayList<>();
        for (int i = 1; i <= 30; i++) {
            base.add("host" + i + " 300 A 192.0.2." + i);
        }
        ZoneData zone = zone(1, base.toArray(String[]::new));
        for (int serial = 2; serial <= 8; serial++) {
            List<String> records = new ArrayList<>(base);
            records.add("n" + serial + " 300 A 198.51.100." + serial);
            zone = zone(serial, records.toArray(String[]::new)).after(zone);
        }
        assertThat(zone.history().differences()).hasSize(ZoneHistory.MAX_VERSIONS);
        assertThat(zone.history().since(2, 8)).as("six versions back").isEmpty();
        List<ZoneHistory.Difference> chain = zone.history().since(3, 8).orElseThrow();
        assertThat(chain).extracting(d -> d.from().getSerial() + "->" + d.to().getSerial())
                .containsExactly("3->4", "4->5", "5->6", "6->7", "7->8");
        assertThat(text(chain.getLast().deleted())).containsExactly("n7 300 198.51.100.7");
        assertThat(text(chain.getLast().added())).containsExactly("n8 300 198.51.100.8");
    }

    @Test
    void differencesLargerThanTheZoneAreNotKept() throws IOException {
        ZoneData v1 = zone(1, "a 300 A 192.0.2.1", "b 300 A 192.0.2.2", "c 300 A 192.0.2.3");
        // Everything changed: the difference (2 SOAs, 3 deleted, 3 added) outnumbers the zone (4 records, 2 SOAs).
        ZoneData v2 = zone(2, "a 60 A 192.0.2.1", "b 60 A 192.0.2.2", "c 60 A 192.0.2.3").after(v1);
        assertThat(v2.history().since(1, 2)).as("the whole zone is the shorter answer").isEmpty();
        // A small change after it is kept on its own.
        ZoneData v3 = zone(3, "a 60 A 192.0.2.1", "b 60 A 192.0.2.2", "c 60 A 192.0.2.3", "d 60 A 192.0.2.4").after(v2);
        assertThat(v3.history().since(2, 3)).isPresent();
        assertThat(v3.history().since(1, 3)).isEmpty();
    }

    @Test
    void aZoneServedWithFailingFrontDoorsLeftOutHasNoHistory() throws IOException {
        ZoneData v1 = zone(1, "www 300 A 192.0.2.1", "www 300 A 192.0.2.2");
        ZoneData v2 = zone(2, "www 300 A 192.0.2.1", "www 300 A 192.0.2.2", "x 300 A 192.0.2.9").after(v1);
        ZoneData filtered = v2.withoutAddresses(Name.fromConstantString("www.h.test."), java.util.Set.of(java.net.InetAddress.getByName("192.0.2.2")));
        assertThat(filtered).isNotSameAs(v2);
        assertThat(filtered.history().differences()).as("data no secondary's copy was made from").isEmpty();
        assertThat(v2.history().differences()).hasSize(1);
    }
}
