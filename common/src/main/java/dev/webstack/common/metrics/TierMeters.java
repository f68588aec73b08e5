package dev.webstack.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * A tier's meters for {@code GET /metrics}, with Micrometer: a Prometheus registry with the JVM's
 * memory, garbage collections, threads, class loading, CPU and uptime bound; the tier adds its
 * own. Every value is read when scraped.
 */
public final class TierMeters implements AutoCloseable {
    /** The Content-Type of {@link #scrape()}: Prometheus's text format, as its scrapers ask for by default. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public TierMeters() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Where the tier registers its meters. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The meters now, in Prometheus's text format (version 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * Answers {@code ex}, a request for the meters, and closes it: {@code scrape}'s text with
     * {@link #CONTENT_TYPE} to a GET, 405 to anything else.
     */
    public static void answer(HttpExchange ex, Supplier<String> scrape) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("GET")) {
                ex.getResponseHeaders().set("Allow", "GET");
                ex.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = scrape.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
