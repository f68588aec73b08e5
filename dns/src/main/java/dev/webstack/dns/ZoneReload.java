package dev.webstack.dns;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a {@link DnsServer#reload} did, zone by zone, as a value: {@code toString()} is the line to
 * log or print, {@link #orThrow()} makes a rejection an exception (for a SIGHUP handler that
 * reports failures by throwing).
 *
 * @param zones one outcome per zone served before or configured now
 * @param notes what else was noticed, e.g. a setting that needs a restart
 */
public record ZoneReload(List<Zone> zones, List<String> notes) {

    /** The outcome for one zone. */
    public enum Outcome {
        /** Loaded for the first time. */
        ADDED,
        /** New data with a higher serial is served. */
        UPDATED,
        /** Same serial, same data: the loaded zone was kept as it was. */
        UNCHANGED,
        /** Not in the config any more: no longer served. */
        REMOVED,
        /** Errors, or changed data without a higher serial: the old data (if any) is still served. */
        REJECTED
    }

    /**
     * @param origin the zone's origin
     * @param outcome what happened
     * @param detail the serials, or the reason for a rejection ({@code file:line: reason})
     */
    public record Zone(String origin, Outcome outcome, String detail) {
        @Override
        public String toString() {
            return origin + " " + outcome.name().toLowerCase() + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    public ZoneReload {
        zones = List.copyOf(zones);
        notes = List.copyOf(notes);
    }

    /** The rejected zones. */
    public List<Zone> rejected() {
        return zones.stream().filter(z -> z.outcome() == Outcome.REJECTED).toList();
    }

    /** Whether any zone is served with different data than before. */
    public boolean changed() {
        return zones.stream().anyMatch(z -> z.outcome() != Outcome.UNCHANGED && z.outcome() != Outcome.REJECTED);
    }

    /**
     * This outcome when no zone was rejected.
     *
     * @throws IllegalStateException saying which zones were rejected and why; the other zones of the
     *                               reload are served all the same
     */
    public ZoneReload orThrow() {
        List<Zone> rejected = rejected();
        if (!rejected.isEmpty()) {
            throw new IllegalStateException(rejected.stream().map(Zone::toString).collect(Collectors.joining("; ")));
        }
        return this;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        zones.forEach(z -> parts.add(z.toString()));
        parts.addAll(notes);
        return parts.isEmpty() ? "no zones" : String.join("; ", parts);
    }

    static final class Builder {
        private final List<Zone> zones = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();

        void added(String origin, long serial) {
            zones.add(new Zone(origin, Outcome.ADDED, "serial " + serial));
        }

        void updated(String origin, long from, long to) {
            zones.add(new Zone(origin, Outcome.UPDATED, "serial " + from + " -> " + to));
        }

        void unchanged(String origin, long serial) {
            zones.add(new Zone(origin, Outcome.UNCHANGED, "serial " + serial));
        }

        void removed(String origin) {
            zones.add(new Zone(origin, Outcome.REMOVED, ""));
        }

        void rejected(String origin, String reason) {
            zones.add(new Zone(origin, Outcome.REJECTED, reason));
        }

        void note(String note) {
            notes.add(note);
        }

        ZoneReload build() {
            return new ZoneReload(zones, notes);
        }
    }
}
