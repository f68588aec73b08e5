package dev.webstack.common.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The web tier (the role nginx plays in the seed): static files from the codebase's public folder,
 * everything else proxied to the app servers.
 *
 * @param listen         HTTP address, default {@code 127.0.0.1:8080}
 * @param publicRoot     the folder static files are served from (the codebase's public folder)
 * @param staticPaths    request paths served from {@code publicRoot}: a prefix ending in '/' or an exact path
 * @param upstreams      app server addresses; empty means "the app servers of the app section"
 * @param connectTimeout time to open an upstream connection before answering 502, default 2s
 * @param readTimeout    time to wait for an upstream's response before answering 504, default 30s
 * @param idleTimeout    keep-alive idle time of a client connection, default 60s
 * @param accessLog      the access log file (combined format plus request time)
 * @param admin          the admin API (upstream pool changes: scale, drain, deploy), loopback only;
 *                       default: the listen host, port + 1 (127.0.0.1:8081)
 */
public record WebConfig(
        HostPort listen,
        Path publicRoot,
        List<String> staticPaths,
        List<HostPort> upstreams,
        Duration connectTimeout,
        Duration readTimeout,
        Duration idleTimeout,
        Path accessLog,
        HostPort admin) {

    public WebConfig {
        staticPaths = List.copyOf(staticPaths);
        upstreams = List.copyOf(upstreams);
    }

    /** A web tier whose admin API listens beside it, on the next port. */
    public WebConfig(HostPort listen, Path publicRoot, List<String> staticPaths, List<HostPort> upstreams,
                     Duration connectTimeout, Duration readTimeout, Duration idleTimeout, Path accessLog) {
        this(listen, publicRoot, staticPaths, upstreams, connectTimeout, readTimeout, idleTimeout, accessLog,
                listen.withPort(listen.port() == 0 ? 0 : listen.port() + 1));
    }

    /** The same tier pointed at other upstreams (e.g. {@code webstack web --upstream host:port}). */
    public WebConfig withUpstreams(List<HostPort> newUpstreams) {
        return new WebConfig(listen, publicRoot, staticPaths, newUpstreams, connectTimeout, readTimeout, idleTimeout, accessLog, admin);
    }

    static WebConfig from(ConfigNode node, Path base, Path varDir) {
        node.allowOnly("listen", "public", "static", "upstreams", "connect-timeout", "read-timeout", "idle-timeout", "access-log", "admin");
        List<String> staticPaths = node.list("static").stream().map(n -> {
            String p = n.text().trim();
            if (!p.startsWith("/")) {
                throw n.error("'" + p + "' must start with '/'");
            }
            return p;
        }).toList();
        if (staticPaths.isEmpty() && node.child("static").isEmpty()) {
            staticPaths = List.of("/static/", "/favicon.ico", "/robots.txt");
        }
        List<HostPort> upstreams = node.list("upstreams").stream().map(n -> {
            try {
                return HostPort.parse(n.text());
            } catch (IllegalArgumentException e) {
                throw n.error(e.getMessage());
            }
        }).toList();
        HostPort listen = node.hostPort("listen", "127.0.0.1:8080");
        HostPort admin = node.hostPort("admin", listen.withPort(listen.port() + 1).toString());
        if (!admin.host().startsWith("127.") && !admin.host().equals("::1") && !admin.host().equals("localhost")) {
            throw node.child("admin").orElseThrow().error("'" + admin + "' (expected: a loopback address; the admin API changes the upstream pool)");
        }
        return new WebConfig(
                listen,
                base.resolve(node.string("public", "site/public")).normalize(),
                staticPaths,
                upstreams,
                node.duration("connect-timeout", Duration.ofSeconds(2)),
                node.duration("read-timeout", Duration.ofSeconds(30)),
                node.duration("idle-timeout", Duration.ofSeconds(60)),
                base.resolve(node.string("access-log", varDir.resolve("log/web-access.log").toString())).normalize(),
                admin);
    }
}
