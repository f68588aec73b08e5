package dev.webstack.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny app server for proxy tests (JDK HttpServer on port 0).
 * <ul>
 *   <li>{@code /echo...}: 200, body = method, target, then the received headers as
 *       {@code name: value} lines (lower-case names, sorted); response headers
 *       {@code X-Upstream: <name>}, {@code X-Remote-Port} (the proxy connection's port) and {@code Keep-Alive} (hop-by-hop, must not reach the client).</li>
 *   <li>{@code /-/ready}: 200 or 503, see {@link #ready}.</li>
 *   <li>{@code /slow}: sleeps {@code slowMillis}, then 200 "slow".</li>
 *   <li>{@code /stream}: 200 without a length (the JDK sends it chunked), 3 pieces.</li>
 *   <li>{@code POST /upload}: 200, body = the received body.</li>
 * </ul>
 */
final class TestUpstream implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    final AtomicInteger requests = new AtomicInteger();
    /** What {@code GET /-/ready} answers: 200 when true, 503 otherwise (not counted in {@link #requests}). */
    volatile boolean ready = true;

    TestUpstream(String name, long slowMillis) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(executor);
        server.createContext("/echo", ex -> {
            requests.incrementAndGet();
            StringBuilder sb = new StringBuilder();
            sb.append(ex.getRequestMethod()).append(' ').append(ex.getRequestURI().toString()).append('\n');
            Map<String, List<String>> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            sorted.putAll(ex.getRequestHeaders());
            sorted.forEach((k, vs) -> vs.forEach(v -> sb.append(k.toLowerCase()).append(": ").append(v).append('\n')));
            ex.getResponseHeaders().add("X-Upstream", name);
            ex.getResponseHeaders().add("X-Remote-Port", String.valueOf(ex.getRemoteAddress().getPort()));
            ex.getResponseHeaders().add("Keep-Alive", "timeout=5");
            reply(ex, 200, sb.toString());
        });
        server.createContext("/-/ready", ex -> reply(ex, ready ? 200 : 503, ready ? "ready" : "not ready"));
        server.createContext("/slow", ex -> {
            requests.incrementAndGet();
            try {
                Thread.sleep(slowMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.getResponseHeaders().add("X-Remote-Port", String.valueOf(ex.getRemoteAddress().getPort()));
            reply(ex, 200, "slow");
        });
        server.createContext("/stream", ex -> {
            requests.incrementAndGet();
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 3; i++) {
                    out.write(("piece " + i + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
        server.createContext("/upload", ex -> {
            requests.incrementAndGet();
            byte[] body = ex.getRequestBody().readAllBytes();
            reply(ex, 200, new String(body, StandardCharsets.UTF_8));
        });
        server.start();
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    HostPort address() {
        return new HostPort("127.0.0.1", server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
