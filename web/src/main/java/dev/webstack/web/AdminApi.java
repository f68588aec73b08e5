package dev.webstack.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.metrics.TierMeters;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web tier's admin API on {@code web.admin} (loopback only; the config refuses anything else):
 * JSON over HTTP/1.1 to change the upstream group while serving. The supervisor's
 * {@code WebAdminClient} is its client.
 * <pre>
 * GET    /upstreams                  200 {"upstreams":[member, ...]}
 * PUT    /upstreams/{name}           {"address":"127.0.0.1:9002","weight":1,"backup":false} → 200 member
 *                                    (added or replaced; takes requests once its health check passes)
 * DELETE /upstreams/{name}           200 {"removed":name}; its in-flight requests finish
 * POST   /upstreams/{name}/drain     200 member; no new requests, in-flight ones finish ("inflight")
 * POST   /upstreams/{name}/disable   200 member; no new requests
 * POST   /upstreams/{name}/enable    200 member; back in rotation once healthy
 * member: {"name","address","weight","backup","state","healthy","inflight","requests","failures"}
 * state:  up | down | starting | draining | disabled
 * errors: 400 / 404 / 405 {"error": message}
 * GET    /metrics                    200 the web tier's meters in Prometheus's text format ({@link WebMetrics})
 * </pre>
 * One thread serves it: admin calls are rare and short, and apply one at a time.
 */
final class AdminApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 16 * 1024;

    private final HttpServer server;
    private final ExecutorService thread;
    private final UpstreamGroup group;
    private final HealthChecker checker;
    private final WebMetrics metrics;

    private AdminApi(HttpServer server, ExecutorService thread, UpstreamGroup group, HealthChecker checker, WebMetrics metrics) {
        this.server = server;
        this.thread = thread;
        this.group = group;
        this.checker = checker;
        this.metrics = metrics;
    }

    /** @throws IllegalStateException when {@code address} cannot be bound */
    static AdminApi start(HostPort address, UpstreamGroup group, HealthChecker checker, WebMetrics metrics) {
        HttpServer server;
        try {
            server = HttpServer.create(address.toSocketAddress(), 16);
        } catch (IOException e) {
            throw new IllegalStateException("web: cannot listen for the admin API on " + address + ": " + WebServer.whyNotBound(e), e);
        }
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "web-admin");
            t.setDaemon(true);
            return t;
        });
        AdminApi api = new AdminApi(server, thread, group, checker, metrics);
        server.setExecutor(thread);
        server.createContext("/", api::handle);
        server.start();
        return api;
    }

    int port() {
        return server.getAddress().getPort();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange ex) throws IOException {
        if (ex.getRequestURI().getPath().equals("/metrics")) {
            TierMeters.answer(ex, metrics::scrape);
            return;
        }
        try (ex) {
            Reply reply;
            try {
                reply = route(ex.getRequestMethod(), ex.getRequestURI().getPath(), ex);
            } catch (IllegalArgumentException e) {
                reply = Reply.error(400, e.getMessage());
            } catch (RuntimeException e) {
                log.warn("web admin: {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
                reply = Reply.error(500, e.toString());
            }
            byte[] body = JSON.writeValueAsBytes(reply.body());
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(reply.status(), body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private record Reply(int status, JsonNode body) {
        static Reply error(int status, String message) {
            return new Reply(status, JSON.createObjectNode().put("error", message));
        }

        static Reply of(Member m) {
            return new Reply(200, json(m));
        }
    }

    private Reply route(String method, String path, HttpExchange ex) throws IOException {
        String[] parts = path.replaceAll("/+$", "").split("/");
        // parts[0] is the empty string before the leading '/'.
        if (parts.length < 2 || !parts[1].equals("upstreams")) {
            return Reply.error(404, "no such resource: " + path + " (expected: /upstreams...)");
        }
        if (parts.length == 2) {
            if (!method.equals("GET")) {
                return Reply.error(405, method + " " + path + " (expected: GET)");
            }
            ArrayNode list = JSON.createArrayNode();
            group.members().forEach(m -> list.add(json(m)));
            ObjectNode root = JSON.createObjectNode();
            root.set("upstreams", list);
            return new Reply(200, root);
        }
        String name = parts[2];
        if (parts.length == 3) {
            return switch (method) {
                case "GET" -> found(name, group.member(name));
                case "PUT" -> put(name, ex);
                case "DELETE" -> group.remove(name)
                        ? new Reply(200, JSON.createObjectNode().put("removed", name))
                        : notFound(name);
                default -> Reply.error(405, method + " " + path + " (expected: GET, PUT or DELETE)");
            };
        }
        if (parts.length == 4 && method.equals("POST")) {
            Member.Admin decision = switch (parts[3]) {
                case "drain" -> Member.Admin.DRAINING;
                case "disable" -> Member.Admin.DISABLED;
                case "enable" -> Member.Admin.ACTIVE;
                default -> null;
            };
            if (decision != null) {
                Optional<Member> m = group.admin(name, decision);
                m.ifPresent(member -> log.info("upstream {} ({}): {}", member.name, member.address, parts[3]));
                return found(name, m);
            }
        }
        return Reply.error(404, "no such action: " + method + " " + path
                + " (expected: POST /upstreams/{name}/drain, /disable or /enable)");
    }

    private Reply put(String name, HttpExchange ex) throws IOException {
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        }
        byte[] raw = ex.getRequestBody().readNBytes(MAX_BODY + 1);
        if (raw.length > MAX_BODY) {
            throw new IllegalArgumentException("body: more than " + MAX_BODY + " bytes");
        }
        JsonNode body;
        try {
            body = JSON.readTree(new String(raw, StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("body: not JSON: " + e.getOriginalMessage());
        }
        if (body == null || !body.path("address").isTextual()) {
            throw new IllegalArgumentException("address: missing (expected: {\"address\":\"host:port\",\"weight\":1})");
        }
        HostPort address = HostPort.parse(body.path("address").asText());
        int weight = body.path("weight").asInt(1);
        Member m = group.put(name, address, weight, body.path("backup").asBoolean(false));
        log.info("upstream {} ({}): added, {}", m.name, m.address, m.state());
        // A first check at once: a deploy waits for this member.
        checker.check(m);
        return Reply.of(m);
    }

    private static Reply found(String name, Optional<Member> m) {
        return m.map(Reply::of).orElseGet(() -> notFound(name));
    }

    private static Reply notFound(String name) {
        return Reply.error(404, "no upstream named '" + name + "'");
    }

    static ObjectNode json(Member m) {
        return JSON.createObjectNode()
                .put("name", m.name)
                .put("address", m.address.toString())
                .put("weight", m.weight())
                .put("backup", m.backup)
                .put("state", m.state())
                .put("healthy", m.healthy())
                .put("inflight", m.inflight())
                .put("requests", m.requests())
                .put("failures", m.failures());
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
