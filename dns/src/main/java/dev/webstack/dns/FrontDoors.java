package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.health.HttpHealthCheck;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;

/**
 * Health-checked answers for redundant front doors (like Route 53 failover records): for each
 * {@code dns.health-checks} entry, every address of the name's A/AAAA records is probed with an HTTP
 * GET on its web tier; an address that fails is left out of answers until it passes again (see
 * {@link ZoneData#withoutAddresses}: when none passes, all are given). Probes run on their own
 * thread, never on the event loops; a change of the set of failing addresses calls {@code changed}.
 *
 * <p>The checks can change while the server runs ({@link #update}, on reload): a check no longer
 * configured stops probing and its name's addresses are all given again; a new or changed one
 * starts probing at once. A name still checked keeps its failing addresses until the next probe
 * says otherwise, so a reload never hands out a front door that was known to fail.
 */
final class FrontDoors implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FrontDoors.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);

    private final Supplier<List<ZoneData>> zones;
    private final Runnable changed;
    private final Map<Name, Set<InetAddress>> down = new ConcurrentHashMap<>();
    private final Map<DnsConfig.HealthCheck, ScheduledFuture<?>> probing = new HashMap<>(); // guarded by this
    private final ScheduledExecutorService probes;

    /**
     * @param zones   the zones as loaded (before failing addresses are left out)
     * @param changed called, on the probe thread, when the set of failing addresses changed
     */
    FrontDoors(Supplier<List<ZoneData>> zones, Runnable changed) {
        this.zones = zones;
        this.changed = changed;
        this.probes = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dns-front-doors");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Probes exactly {@code checks} from now on: stops the probes of the others, starts the new
     * ones. Returns what changed, e.g. {@code started www.foobar.com.; stopped api.foobar.com.},
     * empty when nothing did. The caller publishes the zones again ({@link #apply}) afterwards.
     */
    synchronized String update(List<DnsConfig.HealthCheck> checks) {
        List<String> changes = new ArrayList<>();
        for (Iterator<Map.Entry<DnsConfig.HealthCheck, ScheduledFuture<?>>> it = probing.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<DnsConfig.HealthCheck, ScheduledFuture<?>> e = it.next();
            if (!checks.contains(e.getKey())) {
                e.getValue().cancel(false);
                it.remove();
                changes.add("stopped " + e.getKey().name());
            }
        }
        Set<Name> checked = new HashSet<>();
        for (DnsConfig.HealthCheck check : checks) {
            Name name = Name.fromConstantString(check.name());
            checked.add(name);
            if (!probing.containsKey(check)) {
                probing.put(check, probes.scheduleWithFixedDelay(() -> probe(check, name), 0, check.interval().toMillis(),
                        TimeUnit.MILLISECONDS));
                changes.add("started " + check.name());
            }
        }
        down.keySet().retainAll(checked);
        return String.join("; ", changes);
    }

    /** The zones as they should be answered now: failing front doors left out. */
    List<ZoneData> apply(List<ZoneData> loaded) {
        if (down.isEmpty()) {
            return loaded;
        }
        return loaded.stream().map(z -> {
            ZoneData out = z;
            for (Map.Entry<Name, Set<InetAddress>> e : down.entrySet()) {
                if (e.getKey().subdomain(z.origin())) {
                    out = out.withoutAddresses(e.getKey(), e.getValue());
                }
            }
            return out;
        }).toList();
    }

    private void probe(DnsConfig.HealthCheck check, Name name) {
        try {
            Set<InetAddress> failing = new HashSet<>();
            for (ZoneData z : zones.get()) {
                if (!name.subdomain(z.origin())) {
                    continue;
                }
                for (InetAddress address : z.addresses(name)) {
                    HostPort target = new HostPort(address.getHostAddress(), check.port());
                    if (!new HttpHealthCheck(target, name.toString(true), check.path()).check(PROBE_TIMEOUT).healthy()) {
                        failing.add(address);
                    }
                }
            }
            synchronized (this) {
                // A probe that was running while update() stopped its check: its result is stale.
                if (!probing.containsKey(check)) {
                    return;
                }
                Set<InetAddress> before = down.getOrDefault(name, Set.of());
                if (failing.equals(before)) {
                    return;
                }
                if (failing.isEmpty()) {
                    down.remove(name);
                } else {
                    down.put(name, Set.copyOf(failing));
                }
            }
            log.warn("dns: {} front doors failing: {} (answers leave them out while another answers)", name, failing);
            changed.run();
        } catch (RuntimeException e) {
            log.warn("dns: health check of {} failed: {}", name, e.toString());
        }
    }

    @Override
    public void close() {
        probes.shutdownNow();
    }
}
