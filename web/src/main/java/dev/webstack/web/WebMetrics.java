package dev.webstack.web;

import dev.webstack.common.metrics.TierMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The web tier's meters, in Prometheus's text format for {@code GET /metrics} on the admin API
 * ({@link AdminApi}), with Micrometer:
 * <ul>
 *   <li>what nginx's {@code stub_status} tells: {@code webstack_web_connections_active},
 *       {@code webstack_web_connections_accepted_total}, and {@code webstack_web_requests_total}
 *       by {@code status} class (1xx to 5xx; a request whose client left first counts as 4xx, as
 *       its 499 in the access log);</li>
 *   <li>per app server ({@code member}: its name in the upstream group): requests sent, failures
 *       (connect errors, resets, timeouts), requests in flight, and whether it takes requests
 *       ({@code webstack_web_upstream_up}: 1 when healthy and in rotation);</li>
 *   <li>the JVM's memory, garbage collections, threads, class loading, CPU and uptime ({@link TierMeters}).</li>
 * </ul>
 * Every value is read when scraped; the request path only adds to counters it already kept.
 */
final class WebMetrics implements AutoCloseable {
    private final TierMeters meters = new TierMeters();
    private final MeterRegistry registry = meters.registry();
    private final UpstreamGroup upstreams;
    // The members whose meters are registered, and those meters; guarded by this.
    private final Map<String, Member> registered = new HashMap<>();
    private final Map<String, List<Meter>> memberMeters = new HashMap<>();

    WebMetrics(ClientPipeline pipeline, UpstreamGroup upstreams) {
        this.upstreams = upstreams;
        Gauge.builder("webstack.web.connections.active", pipeline, ClientPipeline::open)
                .description("Client connections open now").register(registry);
        FunctionCounter.builder("webstack.web.connections.accepted", pipeline, ClientPipeline::accepted)
                .description("Client connections accepted since the start").register(registry);
        RequestCounters requests = pipeline.requests();
        for (int c = 1; c <= 5; c++) {
            int statusClass = c;
            FunctionCounter.builder("webstack.web.requests", requests, r -> r.answered(statusClass))
                    .tag("status", c + "xx").description("Requests answered since the start, by status class").register(registry);
        }
    }

    /** The meters now, in Prometheus's text format (version 0.0.4). */
    synchronized String scrape() {
        syncMembers();
        return meters.scrape();
    }

    /** Registers the meters of members added (or replaced) since the last scrape, removes those of members gone. */
    private void syncMembers() {
        Map<String, Member> now = new HashMap<>();
        upstreams.members().forEach(m -> now.put(m.name, m));
        for (String name : new ArrayList<>(registered.keySet())) {
            if (now.get(name) != registered.get(name)) {
                memberMeters.remove(name).forEach(registry::remove);
                registered.remove(name);
            }
        }
        now.forEach((name, m) -> {
            if (!registered.containsKey(name)) {
                registered.put(name, m);
                memberMeters.put(name, List.of(
                        FunctionCounter.builder("webstack.web.upstream.requests", m, Member::requests).tag("member", name)
                                .description("Requests sent to the app server").register(registry),
                        FunctionCounter.builder("webstack.web.upstream.failures", m, Member::failures).tag("member", name)
                                .description("Failed requests to the app server: connect errors, resets, timeouts").register(registry),
                        Gauge.builder("webstack.web.upstream.inflight", m, Member::inflight).tag("member", name)
                                .description("Requests to the app server not answered yet").register(registry),
                        Gauge.builder("webstack.web.upstream.up", m, x -> x.selectable() ? 1 : 0).tag("member", name)
                                .description("1 when the app server takes requests (healthy, in rotation)").register(registry)));
            }
        });
    }

    @Override
    public void close() {
        meters.close();
    }
}
