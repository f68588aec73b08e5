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
 * @param rateLimit  response rate limiting of UDP answers, on by default as in NSD
 * @param transferTo addresses allowed to transfer the zones (AXFR over TCP), default none
 * @param notifyTargets secondaries sent a NOTIFY when a reload changes a zone, default none
 * @param healthChecks  names whose addresses are only handed out while their web tier answers
 */
public record DnsConfig(HostPort listen, List<Zone> zones, int udpPayload, RateLimit rateLimit,
                        List<String> transferTo, List<HostPort> notifyTargets, List<HealthCheck> healthChecks) {

    /**
     * Failover for the A/AAAA records of {@code name} (like Route 53 failover records): each address
     * is probed with {@code GET path} on {@code port} every {@code interval}; answers leave out the
     * addresses that fail, and give all of them when none answers.
     */
    public record HealthCheck(String name, int port, String path, java.time.Duration interval) {}

    /**
     * Response rate limiting (as NSD's {@code rrl-*}): at most {@code responsesPerSecond} UDP answers
     * per second to one client network; of the answers over the limit, every {@code slip}-th is sent
     * truncated (TC=1) so a real client retries over TCP, the rest are dropped. 0 turns it off.
     */
    public record RateLimit(int responsesPerSecond, int slip, int ipv4Prefix, int ipv6Prefix) {
        public static final RateLimit NSD_DEFAULTS = new RateLimit(200, 2, 24, 56);
    }

    /** A DNS tier with NSD's rate-limit defaults, no transfers and no NOTIFY. */
    public DnsConfig(HostPort listen, List<Zone> zones, int udpPayload) {
        this(listen, zones, udpPayload, RateLimit.NSD_DEFAULTS, List.of(), List.of(), List.of());
    }

    /** One authoritative zone: its origin and its RFC 1035 master file. */
    public record Zone(String origin, Path file) {}

    public DnsConfig {
        zones = List.copyOf(zones);
        transferTo = List.copyOf(transferTo);
        notifyTargets = List.copyOf(notifyTargets);
        healthChecks = List.copyOf(healthChecks);
    }

    static DnsConfig from(ConfigNode node, Path base) {
        node.allowOnly("listen", "zones", "udp-payload", "rate-limit", "transfer-to", "notify", "health-checks");
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
        ConfigNode rrl = node.section("rate-limit");
        rrl.allowOnly("responses-per-second", "slip", "ipv4-prefix", "ipv6-prefix");
        RateLimit rateLimit = new RateLimit(
                rrl.integer("responses-per-second", RateLimit.NSD_DEFAULTS.responsesPerSecond(), 0, 1_000_000),
                rrl.integer("slip", RateLimit.NSD_DEFAULTS.slip(), 0, 100),
                rrl.integer("ipv4-prefix", RateLimit.NSD_DEFAULTS.ipv4Prefix(), 8, 32),
                rrl.integer("ipv6-prefix", RateLimit.NSD_DEFAULTS.ipv6Prefix(), 16, 128));
        List<String> transferTo = node.list("transfer-to").stream().map(n -> {
            String ip = n.text().trim();
            if (!ip.matches("[0-9.]+|[0-9a-fA-F:]+")) {
                throw n.error("'" + ip + "' (expected: an IP address)");
            }
            return ip;
        }).toList();
        List<HostPort> notify = node.list("notify").stream().map(n -> {
            try {
                return HostPort.parse(n.text());
            } catch (IllegalArgumentException e) {
                throw n.error(e.getMessage());
            }
        }).toList();
        List<HealthCheck> checks = node.list("health-checks").stream().map(n -> {
            n.allowOnly("name", "port", "path", "interval");
            String name = n.child("name").orElseThrow(() -> n.error("name: missing (expected e.g. foobar.com.)")).text().trim().toLowerCase();
            String path = n.string("path", "/-/health");
            if (!path.startsWith("/")) {
                throw n.child("path").orElseThrow().error("'" + path + "' must start with '/'");
            }
            return new HealthCheck(name.endsWith(".") ? name : name + ".", n.integer("port", 80, 1, 65535), path,
                    n.duration("interval", java.time.Duration.ofSeconds(2)));
        }).toList();
        return new DnsConfig(
                node.hostPort("listen", "127.0.0.1:5353"),
                zones,
                node.integer("udp-payload", 1232, 512, 4096),
                rateLimit,
                transferTo,
                notify,
                checks);
    }
}
