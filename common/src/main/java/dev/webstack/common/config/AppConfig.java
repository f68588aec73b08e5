package dev.webstack.common.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The application servers: how many, where they listen, and the codebase (a webapp, WAR file or
 * exploded folder) they host.
 *
 * @param servers         how many app servers {@code up} starts, default 1
 * @param host            the address they listen on, default 127.0.0.1
 * @param basePort        app-1's port; app-N listens on basePort + N - 1, default 9001
 * @param codebase        the webapp deployed into each app server
 * @param contextPath     where the webapp is mounted, default {@code /}
 * @param poolSize        the most JDBC connections one app server holds, default 10
 * @param shutdownTimeout how long a stopping app server lets in-flight requests finish, default 10s
 * @param replicaMaxLag   with {@code db.replicas: 1}: reads go to the replica while it is at most this
 *                        far behind the primary, else to the primary, default 2s
 */
public record AppConfig(
        int servers,
        String host,
        int basePort,
        Path codebase,
        String contextPath,
        int poolSize,
        Duration shutdownTimeout,
        Duration replicaMaxLag) {

    /** One app server of the pool: {@code app-1}, {@code app-2}, ... */
    public record Instance(String name, HostPort address) {}

    public List<Instance> instances() {
        List<Instance> out = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            out.add(instance(i));
        }
        return out;
    }

    /** The most app servers a stack can scale to; their ports are basePort to basePort + 63. */
    public static final int MAX_SERVERS = 64;

    /**
     * App server {@code app-N}, whether or not {@code up} starts it: {@code webstack scale} and
     * {@code deploy} run more than {@code servers}, up to {@value #MAX_SERVERS}.
     */
    public Instance instance(String name) {
        int n = -1;
        if (name.startsWith("app-")) {
            try {
                n = Integer.parseInt(name.substring(4));
            } catch (NumberFormatException e) {
                n = -1;
            }
        }
        if (n < 1 || n > MAX_SERVERS) {
            throw new IllegalArgumentException("app server: '" + name + "' (expected: app-1 to app-" + MAX_SERVERS + ")");
        }
        return instance(n);
    }

    public Instance instance(int n) {
        return new Instance("app-" + n, new HostPort(host, basePort + n - 1));
    }

    /** The same app servers hosting another codebase (a deploy). */
    public AppConfig withCodebase(Path newCodebase) {
        return new AppConfig(servers, host, basePort, newCodebase, contextPath, poolSize, shutdownTimeout, replicaMaxLag);
    }

    static AppConfig from(ConfigNode node, Path base) {
        node.allowOnly("servers", "host", "base-port", "codebase", "context-path", "pool-size", "shutdown-timeout", "replica-max-lag");
        String contextPath = node.string("context-path", "/");
        if (!contextPath.startsWith("/")) {
            throw node.child("context-path").orElse(node).error("'" + contextPath + "' must start with '/'");
        }
        int servers = node.integer("servers", 1, 1, MAX_SERVERS);
        int basePort = node.integer("base-port", 9001, 1, 65535 - MAX_SERVERS + 1);
        return new AppConfig(
                servers,
                node.string("host", "127.0.0.1"),
                basePort,
                base.resolve(node.string("codebase", "site/target/foobar-site")).normalize(),
                contextPath,
                node.integer("pool-size", 10, 1, 500),
                node.duration("shutdown-timeout", Duration.ofSeconds(10)),
                node.duration("replica-max-lag", Duration.ofSeconds(2)));
    }
}
