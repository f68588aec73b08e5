package dev.webstack.dns;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

/**
 * The authoritative data of one zone, indexed by owner name, and the lookup of RFC 1034 section
 * 4.3.2 over it.
 *
 * <p>{@link #of} groups a master file's records into RRsets with dnsjava's {@link RRset} (one TTL
 * per RRset, duplicates dropped) and checks what dnsjava's {@code Zone} checks (exactly one SOA, at
 * the apex; an NS RRset there), in a hash map instead of the {@code Zone}'s sorted map: loading a
 * zone of 100,000 names spent more time comparing names than parsing them. The lookup is done
 * here too, because {@code Zone.findRecords} answers NXDOMAIN for empty
 * non-terminals (RFC 8020 says they exist) and lets a wildcard match below an existing name (RFC
 * 4592 section 3.3.1 says only the closest encloser's wildcard applies). Every ancestor of an owner
 * name, up to the apex, is indexed too, with no RRsets: that is what makes empty non-terminals
 * exist. Names compare case-insensitively (RFC 4343), as dnsjava's {@link Name} does.
 *
 * <p>Immutable after construction, so one instance is shared by all event-loop threads.
 */
final class ZoneData {
    private static final Name WILD = Name.fromConstantString("*");

    private final Path file;
    private final Name origin;
    private final SOARecord soa;
    private final List<Record> ignored;
    // Never changed once built: zones made from this one (a reload's, its history's) share it.
    private final Map<Name, Map<Integer, RRset>> nodes;
    private final ZoneHistory history;
    // rrsets(), sorted when first asked for.
    private volatile List<RRset> sorted;

    private ZoneData(Path file, Name origin, SOARecord soa, List<Record> ignored, Map<Name, Map<Integer, RRset>> nodes) {
        this.file = file;
        this.origin = origin;
        this.soa = soa;
        this.ignored = List.copyOf(ignored);
        this.nodes = nodes;
        this.history = ZoneHistory.NONE;
    }

    /**
     * The zone {@code origin} of the records a master file holds.
     *
     * @param file    the master file, for messages
     * @param records the file's records at or below {@code origin}
     * @param ignored the file's records outside the zone, which are not served
     * @throws IllegalArgumentException for a zone that cannot be served, with dnsjava's {@code Zone}'s
     *     reasons: an SOA elsewhere than at the apex, not exactly one SOA, no NS RRset at the apex
     */
    static ZoneData of(Path file, Name origin, List<Record> records, List<Record> ignored) {
        Map<Name, Map<Integer, RRset>> nodes = new HashMap<>();
        for (Record r : records) {
            if (r.getType() == Type.SOA && !r.getName().equals(origin)) {
                throw new IllegalArgumentException("SOA owner " + r.getName() + " does not match zone origin " + origin);
            }
            // TreeMap: a stable order by type code, so that ANY answers the same RRset every time.
            Map<Integer, RRset> node = nodes.computeIfAbsent(r.getName(), n -> new TreeMap<>());
            RRset rrset = node.get(r.getRRsetType());
            if (rrset == null) {
                node.put(r.getRRsetType(), new RRset(r));
            } else {
                rrset.addRR(r); // the RRset's TTL is its lowest; an equal record is dropped
            }
        }
        Map<Integer, RRset> apex = nodes.get(origin);
        if (apex == null) {
            throw new IllegalArgumentException(origin + ": no data specified");
        }
        RRset soa = apex.get(Type.SOA);
        if (soa == null || soa.size() != 1) {
            throw new IllegalArgumentException(origin + ": exactly 1 SOA must be specified");
        }
        if (apex.get(Type.NS) == null) {
            throw new IllegalArgumentException(origin + ": no NS set specified");
        }
        for (Name owner : List.copyOf(nodes.keySet())) {
            for (Name up = parent(owner); up.labels() >= origin.labels() && !nodes.containsKey(up); up = parent(up)) {
                nodes.put(up, Map.of());
            }
        }
        // Most names hold one RRset, and an empty non-terminal none: an immutable map of one entry,
        // or the shared empty one, instead of a TreeMap with its entry (about 100 bytes less a name).
        nodes.replaceAll((name, node) -> node.size() > 1 ? node : Map.copyOf(node));
        return new ZoneData(file, origin, (SOARecord) soa.first(), ignored, nodes);
    }

    private ZoneData(ZoneData from, Map<Name, Map<Integer, RRset>> nodes, ZoneHistory history) {
        this.file = from.file;
        this.origin = from.origin;
        this.soa = from.soa;
        this.ignored = from.ignored;
        this.nodes = nodes;
        this.history = history;
        this.sorted = nodes == from.nodes ? from.sorted : null; // the same data: sorted once
    }

    /**
     * This zone, as a reload from {@code before} made it: with {@code before}'s history and the
     * difference between the two (see {@link ZoneHistory}), for incremental transfers.
     */
    ZoneData after(ZoneData before) {
        return new ZoneData(this, nodes, before.history.then(before, this));
    }

    /** This zone with {@code kept} as its history (the one {@link IxfrStore} kept across a restart). */
    ZoneData withHistory(ZoneHistory kept) {
        return new ZoneData(this, nodes, kept);
    }

    /** The differences from the zone's earlier versions; none for a zone as loaded at start. */
    ZoneHistory history() {
        return history;
    }

    /**
     * This zone with the addresses in {@code down} left out of {@code owner}'s A and AAAA RRsets,
     * unless that would leave an RRset empty: then it keeps all of them, as failover records do
     * when no target is healthy.
     */
    ZoneData withoutAddresses(Name owner, Set<java.net.InetAddress> down) {
        Map<Integer, RRset> node = nodes.get(owner);
        if (node == null || down.isEmpty()) {
            return this;
        }
        Map<Integer, RRset> filteredNode = new TreeMap<>(node);
        boolean changed = false;
        for (int type : new int[] {Type.A, Type.AAAA}) {
            RRset rrset = node.get(type);
            if (rrset == null) {
                continue;
            }
            RRset kept = new RRset();
            for (Record r : rrset.rrs(false)) {
                java.net.InetAddress address = r instanceof org.xbill.DNS.ARecord a ? a.getAddress() : ((org.xbill.DNS.AAAARecord) r).getAddress();
                if (!down.contains(address)) {
                    kept.addRR(r);
                }
            }
            if (kept.size() > 0 && kept.size() < rrset.size()) {
                filteredNode.put(type, kept);
                changed = true;
            }
        }
        if (!changed) {
            return this;
        }
        Map<Name, Map<Integer, RRset>> copy = new HashMap<>(nodes);
        copy.put(owner, filteredNode);
        // Data no secondary's copy was made from: a transfer of it is always the whole zone.
        return new ZoneData(this, copy, ZoneHistory.NONE);
    }

    /** The addresses of {@code owner}'s A and AAAA records. */
    List<java.net.InetAddress> addresses(Name owner) {
        Map<Integer, RRset> node = nodes.getOrDefault(owner, Map.of());
        List<java.net.InetAddress> out = new java.util.ArrayList<>();
        for (int type : new int[] {Type.A, Type.AAAA}) {
            RRset rrset = node.get(type);
            if (rrset != null) {
                for (Record r : rrset.rrs(false)) {
                    out.add(r instanceof org.xbill.DNS.ARecord a ? a.getAddress() : ((org.xbill.DNS.AAAARecord) r).getAddress());
                }
            }
        }
        return out;
    }

    Path file() {
        return file;
    }

    Name origin() {
        return origin;
    }

    SOARecord soa() {
        return soa;
    }

    List<Record> ignored() {
        return ignored;
    }

    /**
     * All RRsets of the zone, apex and glue included, in canonical name order (RFC 4034 6.1), then by
     * type. Sorted on the first call and kept, since checks, reloads and every transfer walk them;
     * sorted by {@link #canonicalKey} rather than {@link Name#compareTo}, which compares label by
     * label and costs several times more per comparison.
     */
    Collection<RRset> rrsets() {
        List<RRset> all = sorted;
        if (all == null) {
            record Keyed(char[] key, Map<Integer, RRset> node) {}
            List<Keyed> keyed = new ArrayList<>(nodes.size());
            nodes.forEach((name, node) -> {
                if (!node.isEmpty()) {
                    keyed.add(new Keyed(canonicalKey(name), node));
                }
            });
            keyed.sort((a, b) -> Arrays.compare(a.key(), b.key()));
            List<RRset> list = new ArrayList<>(keyed.size());
            for (Keyed k : keyed) {
                list.addAll(k.node().values());
            }
            all = Collections.unmodifiableList(list);
            sorted = all; // immutable: two threads that both sort store equal lists
        }
        return all;
    }

    /**
     * {@code name} as chars that sort as RFC 4034 section 6.1 orders names: the labels from the
     * root down, each label's octets with ASCII letters lower-cased, plus one (so that every octet
     * sorts after the 0 that ends its label: a label sorts before the longer labels it begins).
     */
    static char[] canonicalKey(Name name) {
        int labels = name.labels();
        char[] key = new char[name.length()];
        int at = 0;
        for (int i = labels - 1; i >= 0; i--) {
            byte[] label = name.getLabel(i); // the length octet first
            for (int j = 1; j < label.length; j++) {
                int b = label[j] & 0xff;
                key[at++] = (char) ((b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b) + 1);
            }
            if (label.length > 1) {
                key[at++] = 0;
            }
        }
        return Arrays.copyOf(key, at);
    }

    /** The types {@code name} holds; empty for a name that is not in the zone or holds nothing (an empty non-terminal). */
    Set<Integer> types(Name name) {
        return Collections.unmodifiableSet(nodes.getOrDefault(name, Map.of()).keySet());
    }

    /** Every name of the zone with its own data or as an empty non-terminal, with the types it holds. */
    Map<Name, Set<Integer>> names() {
        Map<Name, Set<Integer>> names = new HashMap<>();
        nodes.forEach((name, node) -> names.put(name, Set.copyOf(node.keySet())));
        return names;
    }

    /** Whether {@code name} is at or below this zone's apex (it may still be delegated away). */
    boolean contains(Name name) {
        return name.subdomain(origin);
    }

    /**
     * The SOA for the authority section of a negative answer: its TTL is the smaller of the SOA's
     * own TTL and its MINIMUM field (RFC 2308 section 3).
     */
    SOARecord negativeSoa() {
        long ttl = Math.min(soa.getTTL(), soa.getMinimum());
        return new SOARecord(soa.getName(), DClass.IN, ttl, soa.getHost(), soa.getAdmin(), soa.getSerial(),
                soa.getRefresh(), soa.getRetry(), soa.getExpire(), soa.getMinimum());
    }

    /** The RRset of exactly this name and type, ignoring zone cuts: how glue is found. */
    Optional<RRset> exact(Name name, int type) {
        return Optional.ofNullable(nodes.getOrDefault(name, Map.of()).get(type));
    }

    /** Looks {@code qname} (at or below the apex) up for {@code qtype}, which may be ANY. */
    Lookup lookup(Name qname, int qtype) {
        Name encloser = origin;
        // Walk down from the apex one label at a time: an NS RRset below the apex is a zone cut,
        // and everything at or below it belongs to the child (RFC 1034 4.3.2 step 3b). The parent
        // side answers DS itself (RFC 4035 section 3.1.4.1).
        for (int strip = qname.labels() - origin.labels() - 1; strip >= 0; strip--) {
            Name name = strip == 0 ? qname : new Name(qname, strip);
            Map<Integer, RRset> node = nodes.get(name);
            if (node == null) {
                return wildcard(qname, qtype, encloser);
            }
            RRset ns = node.get(Type.NS);
            if (ns != null && !(strip == 0 && qtype == Type.DS)) {
                return new Lookup.Referral(ns);
            }
            encloser = name;
        }
        return fromNode(nodes.get(qname), qtype, qname);
    }

    /** RFC 4592: only the wildcard child of the closest encloser can synthesize an answer. */
    private Lookup wildcard(Name qname, int qtype, Name closestEncloser) {
        Map<Integer, RRset> node;
        try {
            node = nodes.get(Name.concatenate(WILD, closestEncloser));
        } catch (NameTooLongException e) {
            node = null;
        }
        return node == null ? new Lookup.NxDomain() : fromNode(node, qtype, qname);
    }

    private static Lookup fromNode(Map<Integer, RRset> node, int qtype, Name owner) {
        if (qtype == Type.ANY) {
            // RFC 8482 section 4.1: answer ANY with one RRset of the name rather than all of them.
            return node.isEmpty() ? new Lookup.NoData() : new Lookup.Answer(renamed(node.values().iterator().next(), owner));
        }
        RRset rrset = node.get(qtype);
        if (rrset != null) {
            return new Lookup.Answer(renamed(rrset, owner));
        }
        RRset cname = node.get(Type.CNAME);
        // NSEC3 records live at hashed owner names (RFC 5155 section 3), never at one an alias
        // stands for: NODATA without the CNAME, as NSD answers.
        return cname == null || qtype == Type.NSEC3 ? new Lookup.NoData() : new Lookup.Alias(renamed(cname, owner));
    }

    /** A wildcard's RRset takes the query name as its owner (RFC 4592 section 2.1.1). */
    private static RRset renamed(RRset rrset, Name owner) {
        if (rrset.getName().equals(owner)) {
            return rrset;
        }
        RRset copy = new RRset();
        for (Record r : rrset.rrs(false)) {
            copy.addRR(r.withName(owner));
        }
        return copy;
    }

    private static Name parent(Name name) {
        return new Name(name, 1);
    }

    @Override
    public String toString() {
        return origin + " (" + file + ")";
    }
}
