package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * Checks the zones of a {@link DnsConfig} the way {@code webstack dns check} reports them: a file
 * that cannot be served at all throws (see {@link #check(DnsConfig)}); mistakes that still let it be
 * served are returned as {@link Problem}s, which the server also logs as warnings at start.
 *
 * <ul>
 *   <li>a record outside the zone's origin: dnsjava ignores it;
 *   <li>a CNAME beside other data at the same name (RFC 1034 section 3.6.2, RFC 2181 section 10.1);
 *   <li>an MX, NS or SRV target that is a CNAME (RFC 2181 section 10.3) or, inside the zone, has no
 *       A or AAAA record (for a delegation that is missing glue, RFC 1034 section 4.2.1);
 *   <li>two zones with the same origin.
 * </ul>
 */
public final class ZoneCheck {

    /** One mistake in a zone file: where, about which name, and why it matters. */
    public record Problem(Path file, String name, String reason) {
        @Override
        public String toString() {
            return file + ": " + name + ": " + reason;
        }
    }

    private ZoneCheck() {}

    /**
     * Loads every zone of {@code config} and returns the problems found, zone by zone and by name in
     * canonical DNS order; an empty list means every zone is clean.
     *
     * @throws dev.webstack.common.config.ConfigException a zone file that cannot be used, as
     *                                                    {@code path:line: reason}
     */
    public static List<Problem> check(DnsConfig config) {
        List<Problem> problems = new ArrayList<>();
        Set<Name> origins = new HashSet<>();
        for (ZoneData zone : ZoneLoader.loadAll(config)) {
            if (!origins.add(zone.origin())) {
                problems.add(new Problem(zone.file(), zone.origin().toString(), "a second zone with this origin; the first one is served"));
            }
            problems.addAll(check(zone));
        }
        return List.copyOf(problems);
    }

    static List<Problem> check(ZoneData zone) {
        List<Problem> problems = new ArrayList<>();
        for (Record r : zone.ignored()) {
            problems.add(problem(zone, r.getName(), "outside the zone " + zone.origin() + ", ignored: " + r));
        }
        for (RRset rrset : zone.rrsets()) {
            if (rrset.getType() == Type.CNAME && hasOtherData(zone, rrset.getName())) {
                problems.add(problem(zone, rrset.getName(), "a CNAME cannot have other data beside it (RFC 1034 3.6.2)"));
            }
            for (Record r : rrset.rrs(false)) {
                Name target = r.getAdditionalName();
                if (target != null && zone.contains(target)) {
                    checkTarget(zone, r, target).ifPresent(problems::add);
                }
            }
        }
        return problems;
    }

    private static Optional<Problem> checkTarget(ZoneData zone, Record r, Name target) {
        String what = Type.string(r.getType()) + " target " + target;
        if (zone.exact(target, Type.CNAME).isPresent()) {
            return Optional.of(problem(zone, r.getName(), what + " is a CNAME (RFC 2181 10.3)"));
        }
        if (zone.exact(target, Type.A).isEmpty() && zone.exact(target, Type.AAAA).isEmpty()) {
            return Optional.of(problem(zone, r.getName(), what + " has no A or AAAA record in the zone"));
        }
        return Optional.empty();
    }

    private static boolean hasOtherData(ZoneData zone, Name name) {
        return zone.types(name).stream().anyMatch(t -> t != Type.CNAME);
    }

    private static Problem problem(ZoneData zone, Name name, String reason) {
        return new Problem(zone.file(), name.toString(), reason);
    }
}
