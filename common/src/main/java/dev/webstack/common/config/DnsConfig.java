package dev.webstack.common.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The DNS tier: where it listens (UDP and TCP on the same address) and which zone files it serves.
 *
 * @param listen     UDP and TCP address, default {@code 127.0.0.1:5353}
 * @param zones      the zones served authoritatively
 * @param udpPayload the largest UDP answer sent to an EDNS client (RFC 6891), default 1232
 */
public record DnsConfig(HostPort listen, List<Zone> zones, int udpPayload) {

    /** One authoritative zone: its origin and its RFC 1035 master file. */
    public record Zone(String origin, Path file) {}

    public DnsConfig {
        zones = List.copyOf(zones);
    }

    static DnsConfig from(ConfigNode node, Path base) {
        node.allowOnly("listen", "zones", "udp-payload");
        List<Zone> zones = new ArrayList<>();
        for (ConfigNode z : node.list("zones")) {
            z.allowOnly("origin", "file");
            String origin = z.child("origin").orElseThrow(() -> z.error("origin: missing (expected e.g. foobar.com.)")).text().trim();
            if (!origin.endsWith(".")) {
                origin = origin + ".";
            }
            ConfigNode fileNode = z.child("file").orElseThrow(() -> z.error("file: missing (expected the zone's master file)"));
            zones.add(new Zone(origin.toLowerCase(), base.resolve(fileNode.text().trim()).normalize()));
        }
        if (zones.isEmpty()) {
            zones.add(new Zone("foobar.com.", base.resolve("zones/foobar.com.zone")));
        }
        return new DnsConfig(
                node.hostPort("listen", "127.0.0.1:5353"),
                zones,
                node.integer("udp-payload", 1232, 512, 4096));
    }
}
