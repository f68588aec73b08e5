package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.handler.codec.http.HttpRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The locations of {@code web.locations}, compiled into one lookup table per host, with nginx's
 * selection order (see {@link LocationConfig}):
 * <ol>
 *   <li>an exact location ({@code = /x}): one hash lookup;</li>
 *   <li>else the longest prefix location (prefixes are kept longest first, so the first that matches
 *       is it); when it is {@code ^~}, or when the host has no regex location, that is the answer and
 *       no regex runs;</li>
 *   <li>else the first regex location, in file order, that finds a match;</li>
 *   <li>else the longest prefix; else {@link Location#PROXY_ALL}.</li>
 * </ol>
 * A location with {@code host:} belongs to that host's table only; the others form the table of the
 * site's own name, which every request whose host has no table of its own uses. Immutable: a reload
 * builds a new one.
 */
final class Locations {
    private final Table site;
    private final Map<String, Table> hosts;
    private final List<Location> all;

    /** The table of one host. */
    private static final class Table {
        private final Map<String, Location> exact = new HashMap<>();
        private final Location[] prefixes;
        private final Location[] regexes;

        Table(List<Location> locations) {
            List<Location> p = new ArrayList<>();
            List<Location> r = new ArrayList<>();
            for (Location l : locations) {
                switch (l.config().kind()) {
                    case EXACT -> exact.put(l.config().pattern(), l);
                    case PREFIX, PREFIX_NO_REGEX -> p.add(l);
                    case REGEX, REGEX_CASELESS -> r.add(l);
                }
            }
            p.sort(Comparator.comparingInt((Location l) -> l.config().pattern().length()).reversed());
            prefixes = p.toArray(Location[]::new);
            regexes = r.toArray(Location[]::new);
        }

        Location select(String path) {
            Location found = exact.get(path);
            if (found != null) {
                return found;
            }
            Location prefix = null;
            for (Location l : prefixes) {
                if (path.startsWith(l.config().pattern())) {
                    prefix = l;
                    break;
                }
            }
            if (prefix != null && prefix.config().kind() == LocationConfig.Kind.PREFIX_NO_REGEX) {
                return prefix;
            }
            for (Location l : regexes) {
                if (l.regexFinds(path)) {
                    return l;
                }
            }
            return prefix != null ? prefix : Location.PROXY_ALL;
        }
    }

    /** Compiles {@code configs}; Content-Type comes from {@code mimeTypes}. */
    Locations(List<LocationConfig> configs, MimeTypes mimeTypes) {
        this(configs, mimeTypes, null);
    }

    /**
     * Compiles {@code configs}, for a reload: a location of {@code previous} (may be null) with the
     * same host, path and client rules hands on its request counts and remembered passwords, as
     * nginx's zones outlive its reloads.
     */
    Locations(List<LocationConfig> configs, MimeTypes mimeTypes, Locations previous) {
        Map<Location.CacheKey, StaticFiles> caches = new HashMap<>();
        Map<Location.AccessKey, Location> before = new HashMap<>();
        if (previous != null) {
            previous.all.forEach(l -> before.putIfAbsent(Location.AccessKey.of(l.config()), l));
        }
        List<Location> siteLocations = new ArrayList<>();
        Map<String, List<Location>> byHost = new LinkedHashMap<>();
        List<Location> compiled = new ArrayList<>();
        for (LocationConfig c : configs) {
            Location l = new Location(c, caches, mimeTypes, before.get(Location.AccessKey.of(c)));
            compiled.add(l);
            if (c.host().isPresent()) {
                byHost.computeIfAbsent(c.host().get(), h -> new ArrayList<>()).add(l);
            } else {
                siteLocations.add(l);
            }
        }
        site = new Table(siteLocations);
        Map<String, Table> tables = new HashMap<>();
        byHost.forEach((host, locations) -> tables.put(host, new Table(locations)));
        hosts = Map.copyOf(tables);
        all = List.copyOf(compiled);
    }

    /** The location that answers {@code req}, whose decoded path is {@code path}. */
    Location select(HttpRequest req, String path) {
        // With no per-host location (the usual case) the Host header is not even looked at.
        if (hosts.isEmpty()) {
            return site.select(path);
        }
        Table t = hosts.get(VirtualHosts.name(req));
        return (t == null ? site : t).select(path);
    }

    /** The host names with locations of their own. */
    Set<String> hosts() {
        return hosts.keySet();
    }

    /** Every location, in file order. */
    List<Location> all() {
        return all;
    }
}
