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
 * @param limits         limits against slow and oversized requests
 * @param balancing      how requests are spread over the app servers, and how their health is judged
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
        HostPort admin,
        Limits limits,
        Balancing balancing) {

    /**
     * @param headerTimeout  from a request's first byte to the end of its headers; beyond it 408 (slowloris), default 10s
     * @param maxBody        largest request body in bytes; beyond it 413, default 10 MiB
     * @param maxConnections most client connections open at once, default 20000
     */
    public record Limits(Duration headerTimeout, int maxBody, int maxConnections) {
        public static final Limits DEFAULTS = new Limits(Duration.ofSeconds(10), 10 * 1024 * 1024, 20_000);
    }

    /** How a request's app server is chosen. */
    public enum Balance { ROUND_ROBIN, WEIGHTED, LEAST_CONN, P2C }

    /**
     * @param balance       round-robin (default), weighted, least-conn or p2c (power of two choices)
     * @param checkInterval how often each app server's /-/ready is probed, default 1s; 0 turns active checks off
     * @param checkTimeout  how long a probe may take, default 1s
     * @param rise          passing probes that bring a down server back, default 2
     * @param riseNew       passing probes that admit a server added while running (scale, deploy), default 1
     * @param fall          failing probes that take a server out, default 2
     * @param ejectAfter    consecutive failed requests (connect error, reset, timeout) that take a server
     *                      out until probes bring it back, default 3; 0 turns passive ejection off
     * @param ejectWindow   the failed requests must fall within this time, default 10s
     * @param slowStart     time over which a server that comes back ramps up to its full share, default 10s
     */
    public record Balancing(Balance balance, Duration checkInterval, Duration checkTimeout, int rise, int riseNew, int fall,
                            int ejectAfter, Duration ejectWindow, Duration slowStart) {
        public static final Balancing DEFAULTS = new Balancing(Balance.ROUND_ROBIN, Duration.ofSeconds(1), Duration.ofSeconds(1),
                2, 1, 2, 3, Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    public WebConfig {
        staticPaths = List.copyOf(staticPaths);
        upstreams = List.copyOf(upstreams);
    }

    /** A web tier whose admin API listens beside it, on the next port. */
    public WebConfig(HostPort listen, Path publicRoot, List<String> staticPaths, List<HostPort> upstreams,
                     Duration connectTimeout, Duration readTimeout, Duration idleTimeout, Path accessLog) {
        this(listen, publicRoot, staticPaths, upstreams, connectTimeout, readTimeout, idleTimeout, accessLog,
                listen.withPort(listen.port() == 0 ? 0 : listen.port() + 1), Limits.DEFAULTS, Balancing.DEFAULTS);
    }

    /** The same tier pointed at other upstreams (e.g. {@code webstack web --upstream host:port}). */
    public WebConfig withUpstreams(List<HostPort> newUpstreams) {
        return new WebConfig(listen, publicRoot, staticPaths, newUpstreams, connectTimeout, readTimeout, idleTimeout, accessLog, admin,
                limits, balancing);
    }

    static WebConfig from(ConfigNode node, Path base, Path varDir) {
        node.allowOnly("listen", "public", "static", "upstreams", "connect-timeout", "read-timeout", "idle-timeout", "access-log", "admin",
                "header-timeout", "max-body", "max-connections", "balance", "health-check", "passive-ejection", "slow-start");
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
                admin,
                limits(node),
                balancing(node));
    }

    private static Limits limits(ConfigNode node) {
        Limits d = Limits.DEFAULTS;
        Duration header = node.duration("header-timeout", d.headerTimeout());
        if (header.isZero()) {
            throw node.child("header-timeout").orElseThrow().error("must be more than 0");
        }
        return new Limits(header, node.integer("max-body", d.maxBody(), 0, Integer.MAX_VALUE),
                node.integer("max-connections", d.maxConnections(), 1, 1_000_000));
    }

    private static Balancing balancing(ConfigNode node) {
        Balancing d = Balancing.DEFAULTS;
        ConfigNode check = node.section("health-check").allowOnly("interval", "timeout", "rise", "rise-new", "fall");
        ConfigNode eject = node.section("passive-ejection").allowOnly("fails", "window");
        Duration timeout = check.duration("timeout", d.checkTimeout());
        if (timeout.isZero()) {
            throw check.child("timeout").orElseThrow().error("must be more than 0");
        }
        return new Balancing(
                node.enumValue("balance", d.balance()),
                check.duration("interval", d.checkInterval()),
                timeout,
                check.integer("rise", d.rise(), 1, 100),
                check.integer("rise-new", d.riseNew(), 1, 100),
                check.integer("fall", d.fall(), 1, 100),
                eject.integer("fails", d.ejectAfter(), 0, 1000),
                eject.duration("window", d.ejectWindow()),
                node.duration("slow-start", d.slowStart()));
    }
}
