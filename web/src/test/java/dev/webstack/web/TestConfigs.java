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

    /** A port nothing listens on (bound, then released). */
    static int closedPort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
