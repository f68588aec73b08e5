package dev.webstack.dns;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

/**
 * The differences between the last versions of a zone, oldest first, for incremental transfers
 * (IXFR, RFC 1995): what a reload that raised the serial deleted and added, as BIND's
 * {@code ixfr-from-differences}, Knot's {@code zonefile-load: difference} and NSD's
 * {@code create-ixfr} keep them. Each difference ends at the serial the next one starts from; the
 * last ends at the zone's current serial. Kept in memory, and in a file when the tier has a
 * place for it ({@link IxfrStore}); without it, after a restart a secondary that is behind gets the
 * whole zone, as RFC 1995 section 4 allows.
 *
 * <p>At most {@value #MAX_VERSIONS} differences are kept (NSD's {@code ixfr-number} default), and
 * none of those whose records together outnumber the zone's own: a secondary that far behind is
 * sent the whole zone, which is then the shorter answer.
 *
 * <p>A record counts as changed when anything of it changed, its TTL included (dnsjava's
 * {@link Record#equals} leaves the TTL out): a new TTL is the old record deleted and the new one
 * added, as secondaries replace it. Immutable.
 */
final class ZoneHistory {
    static final int MAX_VERSIONS = 5;
    static final ZoneHistory NONE = new ZoneHistory(List.of());

    /**
     * One reload's change: from the zone at {@code from}'s serial to the zone at {@code to}'s.
     *
     * @param deleted the records no longer in the zone (SOA excluded)
     * @param added   the records new to the zone (SOA excluded)
     */
    record Difference(SOARecord from, SOARecord to, List<Record> deleted, List<Record> added) {
        Difference {
            deleted = List.copyOf(deleted);
            added = List.copyOf(added);
        }

        /** The records an IXFR carries for this difference: both SOAs and every change. */
        int size() {
            return 2 + deleted.size() + added.size();
        }
    }

    private final List<Difference> differences;

    private ZoneHistory(List<Difference> differences) {
        this.differences = List.copyOf(differences);
    }

    /** A history of these differences, oldest first, each ending where the next starts (read back by {@link IxfrStore}). */
    static ZoneHistory of(List<Difference> differences) {
        return new ZoneHistory(differences);
    }

    /** The differences kept, oldest first. */
    List<Difference> differences() {
        return differences;
    }

    /**
     * This history with the change from {@code before} to {@code after} (a reload that raised the
     * serial) added, and the oldest differences dropped beyond the bounds the class comment gives.
     */
    ZoneHistory then(ZoneData before, ZoneData after) {
        List<Record> deleted = missing(before, after);
        List<Record> added = missing(after, before);

        List<Difference> kept = new ArrayList<>(differences);
        kept.add(new Difference(before.soa(), after.soa(), deleted, added));
        int total = kept.stream().mapToInt(Difference::size).sum();
        int records = after.rrsets().stream().filter(r -> r.getType() != Type.SOA).mapToInt(RRset::size).sum();
        while (!kept.isEmpty() && (kept.size() > MAX_VERSIONS || total > records + 2)) {
            total -= kept.removeFirst().size();
        }
        return new ZoneHistory(kept);
    }

    /**
     * The differences from {@code serial} to the current serial {@code current}, oldest first, or
     * empty when that serial is not one a kept difference starts from (a secondary further behind,
     * or one with a serial this server never served).
     */
    Optional<List<Difference>> since(long serial, long current) {
        for (int i = 0; i < differences.size(); i++) {
            if (differences.get(i).from().getSerial() == serial) {
                List<Difference> chain = differences.subList(i, differences.size());
                return chain.getLast().to().getSerial() == current ? Optional.of(chain) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Whether {@code a} and {@code b} hold the same records with the same TTLs, their SOAs
     * included: what a reload of a file edited without a change to the data (a comment, the
     * layout) finds. Compared as {@link #then} compares, RRset by RRset: for the 100,009-record
     * zone this took about a second as one set of every record's text per version.
     */
    static boolean sameRecords(ZoneData a, ZoneData b) {
        return a.soa().equals(b.soa()) && a.soa().getTTL() == b.soa().getTTL()
                && missing(a, b).isEmpty() && missing(b, a).isEmpty();
    }

    /**
     * The records of {@code zone} but its SOA, in its canonical order, that {@code other} does not
     * hold with the same TTL ({@link Record#equals} leaves the TTL out): RRset by RRset, so that a
     * record is compared only with those of its own name and type. Two hash sets of every record
     * cost a reload of 100,009 records more than a second: dnsjava hashes a record by rendering it.
     */
    private static List<Record> missing(ZoneData zone, ZoneData other) {
        List<Record> missing = new ArrayList<>();
        for (RRset rrset : zone.rrsets()) {
            if (rrset.getType() == Type.SOA) {
                continue;
            }
            RRset counterpart = other.exact(rrset.getName(), rrset.getType()).orElse(null);
            for (Record r : rrset.rrs(false)) {
                if (counterpart == null || !holds(counterpart, r)) {
                    missing.add(r);
                }
            }
        }
        return missing;
    }

    private static boolean holds(RRset rrset, Record record) {
        for (Record r : rrset.rrs(false)) {
            if (r.getTTL() == record.getTTL() && r.equals(record)) {
                return true;
            }
        }
        return false;
    }
}
