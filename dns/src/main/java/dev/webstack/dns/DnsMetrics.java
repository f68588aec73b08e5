package dev.webstack.dns;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.metrics.TierMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.xbill.DNS.Rcode;

/**
 * The DNS tier's meters, in Prometheus's text format, on {@code GET /metrics} at {@code dns.metrics}
 * (as CoreDNS's {@code prometheus} plugin on :9153); what {@code nsd-control stats} counts:
 * <ul>
 *   <li>{@code webstack_dns_queries_total} by {@code transport} (udp, tcp);</li>
 *   <li>{@code webstack_dns_answers_total} by the {@code rcode} of their header (NOERROR, FORMERR,
 *       SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, NOTAUTH), {@code webstack_dns_answers_truncated_total},
 *       {@code webstack_dns_unanswered_total} (queries answered with silence);</li>
 *   <li>{@code webstack_dns_rate_limited_total} by {@code action} (drop, slip);</li>
 *   <li>{@code webstack_dns_tcp_connections} (open now), {@code webstack_dns_tcp_refused_total}
 *       (closed when accepted, over {@code dns.tcp-connections});</li>
 *   <li>{@code webstack_dns_transfers_total} by {@code type} (AXFR, IXFR);</li>
 *   <li>{@code webstack_dns_zone_serial} by {@code zone}: the serial served now;</li>
 *   <li>the JVM's meters ({@link TierMeters}).</li>
 * </ul>
 * One thread serves it, off the event loops; every value is read when scraped.
 */
final class DnsMetrics implements AutoCloseable {
    private static final int[] RCODES = {Rcode.NOERROR, Rcode.FORMERR, Rcode.SERVFAIL, Rcode.NXDOMAIN, Rcode.NOTIMP, Rcode.REFUSED, Rcode.NOTAUTH};

    private final TierMeters meters = new TierMeters();
    private final MeterRegistry registry = meters.registry();
    private final Supplier<List<ZoneData>> zones;
    private final HttpServer server;
    private final ExecutorService thread;
    // The zones whose serial gauge is registered; guarded by this.
    private final Map<String, Meter> serials = new HashMap<>();

    /**
     * @throws IOException when {@code address} cannot be bound
     */
    private DnsMetrics(HostPort address, DnsCounters counters, TcpConnections connections, Supplier<List<ZoneData>> zones)
            throws IOException {
        this.zones = zones;
        for (DnsCounters.Transport t : DnsCounters.Transport.values()) {
            FunctionCounter.builder("webstack.dns.queries", counters, c -> c.queries(t))
                    .tag("transport", t.name().toLowerCase(java.util.Locale.ROOT)).description("Queries received").register(registry);
        }
        for (int rcode : RCODES) {
            FunctionCounter.builder("webstack.dns.answers", counters, c -> c.rcode(rcode))
                    .tag("rcode", Rcode.string(rcode)).description("Answers sent, by the rcode in their header").register(registry);
        }
        FunctionCounter.builder("webstack.dns.answers.truncated", counters, DnsCounters::truncated)
                .description("Answers sent truncated (TC) because they did not fit").register(registry);
        FunctionCounter.builder("webstack.dns.unanswered", counters, DnsCounters::unanswered)
                .description("Queries answered with silence (not a DNS message)").register(registry);
        for (boolean slipped : new boolean[] {false, true}) {
            FunctionCounter.builder("webstack.dns.rate.limited", counters, c -> c.limited(slipped))
                    .tag("action", slipped ? "slip" : "drop").description("UDP answers the rate limit dropped or sent truncated").register(registry);
        }
        Gauge.builder("webstack.dns.tcp.connections", connections, TcpConnections::open)
                .description("TCP connections open now").register(registry);
        FunctionCounter.builder("webstack.dns.tcp.refused", connections, TcpConnections::refused)
                .description("TCP connections closed when accepted: dns.tcp-connections were open").register(registry);
        for (boolean incremental : new boolean[] {false, true}) {
            FunctionCounter.builder("webstack.dns.transfers", counters, c -> c.transfers(incremental))
                    .tag("type", incremental ? "IXFR" : "AXFR").description("Zone transfers sent to secondaries").register(registry);
        }
        this.server = HttpServer.create(address.toSocketAddress(), 16);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dns-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * Serves the meters on {@code address}.
     *
     * @param zones the zones served now (they change on reload)
     * @throws UncheckedIOException when {@code address} cannot be bound
     */
    static DnsMetrics start(HostPort address, DnsCounters counters, TcpConnections connections, Supplier<List<ZoneData>> zones) {
        try {
            return new DnsMetrics(address, counters, connections, zones);
        } catch (IOException e) {
            throw new UncheckedIOException("dns: cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange ex) throws IOException {
        if (!ex.getRequestURI().getPath().equals("/metrics")) {
            try (ex) {
                ex.sendResponseHeaders(404, -1);
            }
            return;
        }
        TierMeters.answer(ex, this::scrape);
    }

    /** The meters now; the serial gauges follow the zones served (added, removed by a reload). */
    synchronized String scrape() {
        Map<String, ZoneData> now = new HashMap<>();
        zones.get().forEach(z -> now.put(z.origin().toString(), z));
        serials.keySet().removeIf(origin -> {
            if (now.containsKey(origin)) {
                return false;
            }
            registry.remove(serials.get(origin));
            return true;
        });
        now.keySet().forEach(origin -> serials.computeIfAbsent(origin, o -> Gauge.builder("webstack.dns.zone.serial", zones,
                        z -> z.get().stream().filter(d -> d.origin().toString().equals(o)).mapToDouble(d -> d.soa().getSerial()).findFirst().orElse(Double.NaN))
                .tag("zone", o).description("The SOA serial of the zone served now").register(registry)));
        return meters.scrape();
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
        meters.close();
    }
}
