package dev.webstack.dns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Master;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;

/**
 * Keeps each zone's {@link ZoneHistory} in a file, so that a secondary that is behind still gets
 * the differences after a restart, as NSD keeps them ({@code store-ixfr}) and BIND in its journal.
 *
 * <p>One file per zone ({@code <dir>/<origin>ixfr}), written again (to a temporary file, then
 * renamed) after each reload that changes the history and removed when the zone keeps none. It is
 * a master file, readable by people and by dnsjava: each difference as an IXFR carries it (RFC
 * 1995 section 4), the old SOA, the records deleted, the new SOA, the records added, every record
 * with its absolute name, TTL and class. Its first line holds a digest of the zone the last
 * difference leads to: at start the history is used only when the zone file loaded now has that
 * serial and that digest, so a zone edited while the server was down (with or without a new serial)
 * gets no history, and its secondaries the whole zone.
 */
final class IxfrStore {
    private static final Logger log = LoggerFactory.getLogger(IxfrStore.class);
    private static final Pattern HEADER = Pattern.compile("; webstack IXFR history of (\\S+), zone digest sha256:([0-9a-f]{64})");

    private final Path dir;

    IxfrStore(Path dir) {
        this.dir = dir;
    }

    /** Where {@code zone}'s history is kept. */
    Path file(ZoneData zone) {
        return dir.resolve(zone.origin().toString() + "ixfr");
    }

    /** Writes {@code zone}'s history, or removes the file when it has none. I/O problems are logged, never thrown. */
    void save(ZoneData zone) {
        Path file = file(zone);
        try {
            List<ZoneHistory.Difference> differences = zone.history().differences();
            if (differences.isEmpty()) {
                Files.deleteIfExists(file);
                return;
            }
            StringBuilder text = new StringBuilder()
                    .append("; webstack IXFR history of ").append(zone.origin()).append(", zone digest sha256:")
                    .append(digest(zone)).append('\n');
            for (ZoneHistory.Difference d : differences) {
                text.append("; serial ").append(d.from().getSerial()).append(" -> ").append(d.to().getSerial()).append('\n');
                text.append(d.from()).append('\n');
                d.deleted().forEach(r -> text.append(r).append('\n'));
                text.append(d.to()).append('\n');
                d.added().forEach(r -> text.append(r).append('\n'));
            }
            Files.createDirectories(dir);
            Path temp = dir.resolve(file.getFileName() + ".tmp");
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            try {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UncheckedIOException e) {
            log.warn("dns: {}: cannot keep the IXFR history in {}: {} (it stays in memory)", zone.origin(), file, e.toString());
        }
    }

    /**
     * {@code zone} with the history kept for it, when there is one and it leads to exactly this
     * zone (its serial and digest); else {@code zone} as it is, the reason logged.
     */
    ZoneData restore(ZoneData zone) {
        Path file = file(zone);
        if (!Files.isRegularFile(file)) {
            return zone;
        }
        try {
            List<ZoneHistory.Difference> differences = new ArrayList<>();
            Optional<String> why = unusable(file, zone, differences);
            if (why.isPresent()) {
                log.info("dns: {}: the IXFR history in {} is not used: {}; secondaries that are behind get the whole zone",
                        zone.origin(), file, why.get());
                return zone;
            }
            log.info("dns: {}: IXFR history restored from {}: {} difference(s), serial {} -> {}", zone.origin(), file,
                    differences.size(), differences.getFirst().from().getSerial(), differences.getLast().to().getSerial());
            return zone.withHistory(ZoneHistory.of(differences));
        } catch (IOException | RuntimeException e) {
            log.warn("dns: {}: the IXFR history in {} cannot be read: {}; secondaries that are behind get the whole zone",
                    zone.origin(), file, e.toString());
            return zone;
        }
    }

    /** Reads the file's differences into {@code out}; why they cannot be used, if they cannot. */
    private static Optional<String> unusable(Path file, ZoneData zone, List<ZoneHistory.Difference> out) throws IOException {
        String header;
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            header = lines.findFirst().orElse("");
        }
        Matcher m = HEADER.matcher(header);
        if (!m.matches() || !m.group(1).equalsIgnoreCase(zone.origin().toString())) {
            return Optional.of("its first line is not a webstack IXFR history of this zone");
        }
        if (!m.group(2).equals(digest(zone))) {
            return Optional.of("it leads to other data than the zone file holds now");
        }
        return read(file, zone, out);
    }

    /** Reads the differences into {@code out}; why they cannot be used, if they cannot. */
    private static Optional<String> read(Path file, ZoneData zone, List<ZoneHistory.Difference> out) throws IOException {
        SOARecord from = null;
        SOARecord to = null;
        List<Record> deleted = new ArrayList<>();
        List<Record> added = new ArrayList<>();
        try (Master master = new Master(file.toString(), zone.origin())) {
            for (Record r = master.nextRecord(); r != null; r = master.nextRecord()) {
                if (!r.getName().subdomain(zone.origin())) {
                    return Optional.of(r.getName() + " is outside the zone");
                }
                if (!(r instanceof SOARecord soa)) {
                    if (from == null) {
                        return Optional.of("a record before the first SOA");
                    }
                    (to == null ? deleted : added).add(r);
                } else if (from == null) {
                    from = soa;
                } else if (to == null) {
                    to = soa;
                } else {
                    // The next difference starts where this one ended.
                    out.add(new ZoneHistory.Difference(from, to, deleted, added));
                    if (soa.getSerial() != to.getSerial()) {
                        return Optional.of("serial " + soa.getSerial() + " follows serial " + to.getSerial());
                    }
                    from = soa;
                    to = null;
                    deleted.clear();
                    added.clear();
                }
            }
        }
        if (from == null || to == null) {
            return Optional.of("no complete difference");
        }
        out.add(new ZoneHistory.Difference(from, to, deleted, added));
        if (to.getSerial() != zone.soa().getSerial()) {
            return Optional.of("it ends at serial " + to.getSerial() + ", the zone file is at " + zone.soa().getSerial());
        }
        return Optional.empty();
    }

    /** SHA-256 of the zone's records as text, in canonical order, TTLs included. */
    static String digest(ZoneData zone) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
        for (RRset rrset : zone.rrsets()) {
            for (Record r : rrset.rrs(false)) {
                sha.update(r.toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
