package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Configs for tests: loopback, port 0, the default static paths. */
final class TestConfigs {
    static final SiteConfig SITE = new SiteConfig("foobar.com", "www.foobar.com");
    static final String WWW = "www.foobar.com";

    private TestConfigs() {}

    static WebConfig web(Path publicRoot, Path accessLog, List<HostPort> upstreams, Duration readTimeout) {
        return new WebConfig(
                new HostPort("127.0.0.1", 0),
                publicRoot,
                List.of("/static/", "/favicon.ico", "/robots.txt"),
                upstreams,
                Duration.ofSeconds(2),
                readTimeout,
                Duration.ofSeconds(60),
                accessLog);
    }

    /**
     * HTTPS on a port of its own, with a self-signed certificate the tier makes under
     * {@code dir/var/tls}; no redirect from HTTP, no HSTS.
     */
    static WebConfig.Tls selfSignedTls(Path dir) {
        return new WebConfig.Tls(new HostPort("127.0.0.1", 0), dir.resolve("var/tls/web.crt"), dir.resolve("var/tls/web.key"),
                true, false, Duration.ZERO);
    }

    /** A port nothing listens on now (bound, then released): for a server a test starts on it later. */
    static int closedPort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // Held for the tests' JVM: a port bound by a socket that neither listens nor connects refuses
    // connections, and the kernel gives it to no other socket. A port released at once may become a
    // later server's: once the admin API's, which answered a request meant for a down app server 404.
    private static final List<java.net.Socket> HELD = new java.util.ArrayList<>();

    /** A port that refuses connections while the tests run: an app server that is down. */
    static synchronized int refusingPort() throws java.io.IOException {
        java.net.Socket s = new java.net.Socket();
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
        HELD.add(s);
        return s.getLocalPort();
    }
}
