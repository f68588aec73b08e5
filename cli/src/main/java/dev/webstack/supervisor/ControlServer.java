package dev.webstack.supervisor;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The supervisor's control API on 127.0.0.1 (an ephemeral port, written to {@code var/run/stack.json}):
 * {@code POST /scale?app=N}, {@code POST /deploy?codebase=PATH}, {@code POST /promote} (retire the
 * primary, promote replica 1), {@code POST /reloaded} (after {@code ./webstack reload}: the web
 * tier's address and admin API as the config file says now) and {@code POST /reopen} (the
 * components' log files opened again, {@link TierLog}). The answer streams the
 * operation's progress, one line per step, and ends with {@code OK} or {@code FAILED: reason}.
 * Loopback only: whoever can reach it can already signal the supervisor.
 */
final class ControlServer implements AutoCloseable {
    private final HttpServer server;

    private ControlServer(HttpServer server) {
        this.server = server;
    }

    static ControlServer start(Operations operations) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/scale", exchange -> run(exchange, out -> {
            String app = query(exchange).get("app");
            if (app == null || !app.matches("\\d{1,3}")) {
                throw new Operations.OperationFailed("scale: app=N missing or not a number");
            }
            operations.scale(Integer.parseInt(app), out);
        }));
        server.createContext("/deploy", exchange -> run(exchange, out -> {
            String codebase = query(exchange).get("codebase");
            if (codebase == null || codebase.isBlank()) {
                throw new Operations.OperationFailed("deploy: codebase=PATH missing");
            }
            operations.deploy(Path.of(codebase), out);
        }));
        server.createContext("/promote", exchange -> run(exchange, operations::promote));
        server.createContext("/reloaded", exchange -> run(exchange, operations::reloaded));
        server.createContext("/reopen", exchange -> run(exchange, operations::reopenLogs));
        server.start();
        return new ControlServer(server);
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private interface Operation {
        void run(PrintWriter progress) throws Exception;
    }

    private static void run(HttpExchange exchange, Operation op) throws IOException {
        if (!"POST".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(405, -1);
            exchange.close();
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(200, 0);
        try (PrintWriter out = new PrintWriter(new OutputStreamWriter(exchange.getResponseBody(), StandardCharsets.UTF_8), true)) {
            try {
                op.run(out);
                out.println("OK");
            } catch (Operations.OperationFailed e) {
                out.println("FAILED: " + e.getMessage());
            } catch (Exception e) {
                out.println("FAILED: " + e);
            }
        }
    }

    private static Map<String, String> query(HttpExchange exchange) {
        Map<String, String> out = new HashMap<>();
        String q = exchange.getRequestURI().getRawQuery();
        if (q == null) {
            return out;
        }
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
