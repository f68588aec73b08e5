package dev.webstack.dns;

import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The answer of an authoritative-only server (RFC 1034 section 4.3.2, without recursion) for one
 * question, written into a response {@link Message}.
 *
 * <ul>
 *   <li>A name in none of the zones: REFUSED, AA clear (as BIND and NSD answer).
 *   <li>Data: AA set, the RRset in the answer section; addresses of MX, NS and SRV targets in the
 *       same zone in the additional section (RFC 1035 section 3.3.9, RFC 2782); the zone's NS
 *       RRset in the authority section.
 *   <li>CNAME: followed while the target is in one of the zones, at most {@value #MAX_CHAIN}
 *       links; a loop stops at the first repeated name (RFC 1034 section 3.6.2). The rcode is that
 *       of the last name of the chain (RFC 6604).
 *   <li>NXDOMAIN and NODATA (including empty non-terminals, RFC 8020): the zone's SOA in the
 *       authority section with the negative TTL of RFC 2308 section 3.
 *   <li>Referral at a zone cut: AA clear, the child's NS in authority, glue in additional.
 * </ul>
 *
 * Positive answers carry the zone's NS RRset in the authority section and the name servers'
 * addresses in the additional section, as NSD answers (checked by {@code NsdConformanceTest});
 * both are left out when they would not fit in the response.
 */
final class Authority {
    /** Longest CNAME chain followed inside the zones. */
    static final int MAX_CHAIN = 8;

    private final List<ZoneData> zones;

    Authority(List<ZoneData> zones) {
        // Most specific origin first, so that a zone nested in another one (a child) wins.
        this.zones = zones.stream()
                .sorted(Comparator.comparingInt((ZoneData z) -> z.origin().labels()).reversed())
                .toList();
    }

    List<ZoneData> zones() {
        return zones;
    }

    /** The zone that holds {@code name}, if any. */
    Optional<ZoneData> zoneFor(Name name) {
        return zones.stream().filter(z -> z.contains(name)).findFirst();
    }

    /** Fills the rcode, AA flag and the three record sections of {@code response} for one question. */
    void answer(Name qname, int qtype, Message response) {
        Optional<ZoneData> first = zoneFor(qname);
        if (first.isEmpty()) {
            response.getHeader().setRcode(Rcode.REFUSED);
            return;
        }
        response.getHeader().setFlag(Flags.AA);
        ZoneData zone = first.get();
        Name name = qname;
        Set<Name> seen = new HashSet<>();
        for (int link = 0; link <= MAX_CHAIN && seen.add(name); link++) {
            switch (zone.lookup(name, qtype)) {
                case Lookup.Answer a -> {
                    add(response, a.rrset(), Section.ANSWER);
                    addTargetAddresses(response, zone, a.rrset());
                    addZoneNs(response, zone, a.rrset());
                    return;
                }
                case Lookup.Alias alias -> {
                    add(response, alias.cname(), Section.ANSWER);
                    name = ((CNAMERecord) alias.cname().first()).getTarget();
                    Optional<ZoneData> next = zoneFor(name);
                    if (next.isEmpty()) {
                        return; // The target is elsewhere: the resolver follows it.
                    }
                    zone = next.get();
                }
                case Lookup.Referral referral -> {
                    if (link == 0) {
                        // The data is the child's: this server is not the authority for it.
                        response.getHeader().unsetFlag(Flags.AA);
                    }
                    add(response, referral.ns(), Section.AUTHORITY);
                    addGlue(response, zone, referral.ns());
                    return;
                }
                case Lookup.NoData n -> {
                    response.addRecord(zone.negativeSoa(), Section.AUTHORITY);
                    return;
                }
                case Lookup.NxDomain n -> {
                    response.getHeader().setRcode(Rcode.NXDOMAIN);
                    response.addRecord(zone.negativeSoa(), Section.AUTHORITY);
                    return;
                }
            }
        }
        // A loop or a chain longer than MAX_CHAIN: NOERROR with the links so far, as BIND does.
    }

    /**
     * The zone's NS RRset in the authority section of a positive answer, with the name servers'
     * addresses (RFC 1034 section 6.2.1 example, RFC 2181 section 6.1), as NSD and BIND send it by
     * default; not when the answer is that NS RRset itself. The rendering drops them again when
     * they do not fit ({@link QueryHandler#render}): they are optional.
     */
    private void addZoneNs(Message response, ZoneData zone, RRset answer) {
        if (answer.getType() == Type.NS && answer.getName().equals(zone.origin())) {
            return;
        }
        zone.exact(zone.origin(), Type.NS).ifPresent(ns -> {
            add(response, ns, Section.AUTHORITY);
            addTargetAddresses(response, zone, ns);
        });
    }

    /**
     * Addresses of MX, NS and SRV targets in {@code zone}, the zone of {@code rrset}. A target in
     * another zone served here gets none, as NSD answers: its addresses are another zone's data, and
     * the resolver asks for them when it needs them (RFC 2181 section 5.4.1 ranks them lowest).
     */
    private static void addTargetAddresses(Message response, ZoneData zone, RRset rrset) {
        for (Record r : rrset.rrs(false)) {
            Name target = r.getAdditionalName();
            if (target == null || !zone.contains(target)) {
                continue;
            }
            for (int type : new int[] {Type.A, Type.AAAA}) {
                if (zone.lookup(target, type) instanceof Lookup.Answer a) {
                    addAdditional(response, a.rrset());
                }
            }
        }
    }

    /** Addresses of the child's name servers held by the parent, below the cut (RFC 1034 4.2.1). */
    private static void addGlue(Message response, ZoneData zone, RRset ns) {
        for (Record r : ns.rrs(false)) {
            Name target = r.getAdditionalName();
            if (zone.contains(target)) {
                zone.exact(target, Type.A).ifPresent(rrset -> addAdditional(response, rrset));
                zone.exact(target, Type.AAAA).ifPresent(rrset -> addAdditional(response, rrset));
            }
        }
    }

    private static void addAdditional(Message response, RRset rrset) {
        boolean present = response.findRRset(rrset.getName(), rrset.getType(), Section.ANSWER)
                || response.findRRset(rrset.getName(), rrset.getType(), Section.ADDITIONAL);
        if (!present) {
            add(response, rrset, Section.ADDITIONAL);
        }
    }

    private static void add(Message response, RRset rrset, int section) {
        for (Record r : rrset.rrs(false)) {
            response.addRecord(r, section);
        }
    }
}
