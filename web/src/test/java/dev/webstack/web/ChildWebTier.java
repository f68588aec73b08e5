package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.WebConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The web tier alone in a JVM of its own, for tests that cap its heap: {@code ChildWebTier <dir>
 * <upstream host:port>}. Prints {@code PORT <n>} once listening and stops when its stdin closes.
 */
public final class ChildWebTier {
    private ChildWebTier() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        HostPort upstream = HostPort.parse(args[1]);
        try (WebServer server = WebServer.start(
                TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(upstream), Duration.ofSeconds(30)),
                TestConfigs.SITE, WebConfig.Limits.DEFAULTS.withMaxBody(Integer.MAX_VALUE))) {
            System.out.println("PORT " + server.port());
            System.out.flush();
            while (System.in.read() != -1) {
                // until the parent closes our stdin
            }
        }
    }
}
