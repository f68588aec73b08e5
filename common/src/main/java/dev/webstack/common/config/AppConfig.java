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
 */
public record AppConfig(
        int servers,
        String host,
        int basePort,
        Path codebase,
        String contextPath,
        int poolSize,
        Duration shutdownTimeout) {

    /** One app server of the pool: {@code app-1}, {@code app-2}, ... */
    public record Instance(String name, HostPort address) {}

    public List<Instance> instances() {
        List<Instance> out = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            out.add(new Instance("app-" + i, new HostPort(host, basePort + i - 1)));
        }
        return out;
    }

    public Instance instance(String name) {
        return instances().stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("app server: '" + name + "' (expected one of: "
                        + instances().stream().map(Instance::name).toList() + ")"));
    }

    static AppConfig from(ConfigNode node, Path base) {
        node.allowOnly("servers", "host", "base-port", "codebase", "context-path", "pool-size", "shutdown-timeout");
        String contextPath = node.string("context-path", "/");
        if (!contextPath.startsWith("/")) {
            throw node.child("context-path").orElse(node).error("'" + contextPath + "' must start with '/'");
        }
        int servers = node.integer("servers", 1, 1, 64);
        int basePort = node.integer("base-port", 9001, 1, 65535 - 63);
        return new AppConfig(
                servers,
                node.string("host", "127.0.0.1"),
                basePort,
                base.resolve(node.string("codebase", "site/target/foobar-site")).normalize(),
                contextPath,
                node.integer("pool-size", 10, 1, 500),
                node.duration("shutdown-timeout", Duration.ofSeconds(10)));
    }
}
