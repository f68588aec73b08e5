package dev.webstack.common.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The DNS tier: where it listens (UDP and TCP on the same addresses) and which zone files it serves.
 *
 * @param addresses  the UDP and TCP addresses ({@code dns.listen}: one, or a list, as NSD's
 *                   {@code ip-address} lines), default {@code 127.0.0.1:5353}; {@link #listen} is the first
 * @param zones      the zones served authoritatively
 * @param udpPayload the largest UDP answer sent to an EDNS client (RFC 6891), default 1232
 * @param rateLimit  response rate limiting of UDP answers, on by default as in NSD
 * @param transferTo addresses allowed to transfer the zones (AXFR over TCP), default none
 * @param notifyTargets secondaries sent a NOTIFY when a reload changes a zone, default none
 * @param healthChecks  names whose addresses are only handed out while their web tier answers
 * @param tsig       the TSIG keys transfers and NOTIFY are signed with, and which secondary uses which
 * @param metrics    where {@code GET /metrics} (Prometheus's text format) is served over HTTP; empty: nowhere
 *                   (the default when absent; {@code off} too)
 * @param udpReaders which event loops read each UDP socket, default {@link UdpReaders#SHARED}
 * @param cpuAffinity whether each event loop runs on a CPU of its own, and each UDP query is read on
 *                   the CPU after the one that delivered it (on Linux, with two CPUs or more);
 *                   default on
 * @param tcpConnections the most TCP connections open at once (NSD's {@code tcp-count}); one over
 *                   it is closed when accepted. Default {@value #TCP_CONNECTIONS}
 * @param nsid       this server's identifier, given to queries that ask for it (RFC 5001, NSD's
 *                   {@code nsid}; {@code dig +nsid}), as text; empty (the default): none
 */
public record DnsConfig(List<HostPort> addresses, List<Zone> zones, int udpPayload, RateLimit rateLimit,
                        List<String> transferTo, List<HostPort> notifyTargets, List<HealthCheck> healthChecks, Tsig tsig,
                        Optional<HostPort> metrics, UdpReaders udpReaders, boolean cpuAffinity, int tcpConnections, String nsid) {

    /** The default of {@code dns.tcp-connections}. */
    public static final int TCP_CONNECTIONS = 1000;

    /**
     * Which event loops read each of the tier's UDP sockets (one socket per event loop, on Linux),
     * the choice NSD's {@code reuseport} option makes for its server processes.
     */
    public enum UdpReaders {
        /**
         * Each socket is read by its own event loop and by the next one, so a query wakes two
         * threads and the one the scheduler runs first answers, as NSD's server processes share one
         * socket by default: the lowest latency when a CPU is busy with something else, at a
         * second wake-up per query.
         */
        SHARED,
        /**
         * Each event loop reads its own socket only, as NSD with {@code reuseport: yes}: one wake-up
         * per query (about half the CPU per query at a low rate, a few percent more queries per
         * second at saturation), and a longer tail when that loop's CPU is busy.
         */
        OWN
    }

    /** On one address, with the UDP sockets shared by the event loops, each loop on a CPU of its own (the defaults). */
    public DnsConfig(HostPort listen, List<Zone> zones, int udpPayload, RateLimit rateLimit,
                     List<String> transferTo, List<HostPort> notifyTargets, List<HealthCheck> healthChecks, Tsig tsig,
                     Optional<HostPort> metrics) {
        this(List.of(listen), zones, udpPayload, rateLimit, transferTo, notifyTargets, healthChecks, tsig, metrics, UdpReaders.SHARED, true,
                TCP_CONNECTIONS, "");
    }

    /** The TSIG algorithms a key may use (RFC 8945 section 6), as NSD and BIND spell them. */
    public static final Set<String> TSIG_ALGORITHMS = Set.of("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384",
            "hmac-sha512");

    /**
     * A TSIG key (RFC 8945), as NSD's {@code key:} and BIND's {@code key} clauses: both sides of a
     * transfer know it by name.
     *
     * @param name      the key's name, a domain name ending in '.', lower case
     * @param algorithm one of {@link #TSIG_ALGORITHMS}
     * @param secret    the shared secret, base64
     */
    public record TsigKey(String name, String algorithm, String secret) {
        @Override
        public String toString() {
            return "TsigKey[" + name + ", " + algorithm + ", secret hidden]";
        }
    }

    /**
     * Transfers and NOTIFY signed with TSIG.
     *
     * @param keys         the keys, by name
     * @param transferKeys transfer client address (as in {@code transferTo}) → the name of the key its AXFR must be signed with
     * @param notifyKeys   secondary (as in {@code notifyTargets}) → the name of the key its NOTIFY is signed with
     */
    public record Tsig(Map<String, TsigKey> keys, Map<String, String> transferKeys, Map<HostPort, String> notifyKeys) {
        public static final Tsig NONE = new Tsig(Map.of(), Map.of(), Map.of());

        public Tsig {
            keys = Map.copyOf(keys);
            transferKeys = Map.copyOf(transferKeys);
            notifyKeys = Map.copyOf(notifyKeys);
        }
    }

    /** Without a metrics address. */
    public DnsConfig(HostPort listen, List<Zone> zones, int udpPayload, RateLimit rateLimit,
                     List<String> transferTo, List<HostPort> notifyTargets, List<HealthCheck> healthChecks, Tsig tsig) {
        this(listen, zones, udpPayload, rateLimit, transferTo, notifyTargets, healthChecks, tsig, Optional.empty());
    }

    /** Without TSIG keys or a metrics address. */
    public DnsConfig(HostPort listen, List<Zone> zones, int udpPayload, RateLimit rateLimit,
                     List<String> transferTo, List<HostPort> notifyTargets, List<HealthCheck> healthChecks) {
        this(listen, zones, udpPayload, rateLimit, transferTo, notifyTargets, healthChecks, Tsig.NONE);
    }

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
        addresses = List.copyOf(addresses);
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("addresses: none (expected: at least one host:port)");
        }
        zones = List.copyOf(zones);
        transferTo = List.copyOf(transferTo);
        notifyTargets = List.copyOf(notifyTargets);
        healthChecks = List.copyOf(healthChecks);
    }

    /**
     * The first address listened on: where the stack's own tools (dig, get, up, the drills, the
     * supervisor's health check) query the tier.
     */
    public HostPort listen() {
        return addresses.get(0);
    }

    static DnsConfig from(ConfigNode node, Path base) {
        node.allowOnly("listen", "zones", "udp-payload", "rate-limit", "transfer-to", "notify", "health-checks", "tsig-keys", "metrics",
                "udp-readers", "cpu-affinity", "tcp-connections", "nsid");
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
        Map<String, TsigKey> keys = tsigKeys(node, base);
        // An entry is an address, or an address and the name of the key it must sign with (NSD's provide-xfr).
        Map<String, String> transferKeys = new HashMap<>();
        List<String> transferTo = node.list("transfer-to").stream().map(n -> {
            String[] parts = n.text().trim().split("\\s+");
            String ip = parts[0];
            if (!ip.matches("[0-9.]+|[0-9a-fA-F:]+") || parts.length > 2) {
                throw n.error("'" + n.text().trim() + "' (expected: an IP address, and the name of a TSIG key it signs with)");
            }
            if (parts.length == 2) {
                transferKeys.put(ip, knownKey(n, parts[1], keys));
            }
            return ip;
        }).toList();
        Map<HostPort, String> notifyKeys = new HashMap<>();
        List<HostPort> notify = node.list("notify").stream().map(n -> {
            String[] parts = n.text().trim().split("\\s+");
            HostPort target;
            try {
                target = HostPort.parse(parts[0]);
            } catch (IllegalArgumentException e) {
                throw n.error(e.getMessage());
            }
            if (parts.length > 2) {
                throw n.error("'" + n.text().trim() + "' (expected: host:port, and the name of a TSIG key to sign with)");
            }
            if (parts.length == 2) {
                notifyKeys.put(target, knownKey(n, parts[1], keys));
            }
            return target;
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
                node.hostPorts("listen", "127.0.0.1:5353"),
                zones,
                node.integer("udp-payload", 1232, 512, 4096),
                rateLimit,
                transferTo,
                notify,
                checks,
                new Tsig(keys, transferKeys, notifyKeys),
                node.child("metrics").filter(n -> !n.text().trim().equals("off")).map(n -> node.hostPort("metrics", null)),
                node.enumValue("udp-readers", UdpReaders.SHARED),
                node.bool("cpu-affinity", true),
                node.integer("tcp-connections", TCP_CONNECTIONS, 1, 1_000_000),
                nsid(node));
    }

    /** {@code nsid}: printable ASCII, at most 255 bytes (an EDNS option could hold more, no one reads that much). */
    private static String nsid(ConfigNode node) {
        Optional<ConfigNode> n = node.child("nsid");
        if (n.isEmpty()) {
            return "";
        }
        String text = n.get().text().trim();
        if (text.isEmpty() || text.length() > 255 || !text.chars().allMatch(c -> c >= 0x21 && c <= 0x7E)) {
            throw n.get().error("'" + text + "' (expected: 1-255 printable ASCII characters, no spaces, e.g. ns1.foobar.com)");
        }
        return text;
    }

    /** {@code tsig-keys}: a list of {@code name}, {@code algorithm} (default hmac-sha256) and {@code secret} or {@code secret-file} (base64). */
    private static Map<String, TsigKey> tsigKeys(ConfigNode node, Path base) {
        Map<String, TsigKey> keys = new HashMap<>();
        for (ConfigNode k : node.list("tsig-keys")) {
            k.allowOnly("name", "algorithm", "secret", "secret-file");
            ConfigNode nameNode = k.child("name").orElseThrow(() -> k.error("name: missing (expected e.g. xfr.foobar.com.)"));
            String name = keyName(nameNode.text());
            if (!name.matches("([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\\.)+")) {
                throw nameNode.error("'" + nameNode.text().trim() + "' (expected: a domain name such as xfr.foobar.com.)");
            }
            String algorithm = k.string("algorithm", "hmac-sha256").trim().toLowerCase(Locale.ROOT);
            if (!TSIG_ALGORITHMS.contains(algorithm)) {
                throw k.child("algorithm").orElseThrow().error("'" + algorithm + "' (expected one of: "
                        + String.join(", ", new TreeSet<>(TSIG_ALGORITHMS)) + ")");
            }
            Optional<ConfigNode> secret = k.child("secret");
            Optional<ConfigNode> secretFile = k.child("secret-file");
            if (secret.isPresent() == secretFile.isPresent()) {
                throw k.error("give the key's secret (base64) as one of secret or secret-file");
            }
            ConfigNode at = secret.orElseGet(secretFile::orElseThrow);
            String value;
            if (secret.isPresent()) {
                value = at.text().trim();
            } else {
                Path file = base.resolve(at.text().trim()).normalize();
                try {
                    value = Files.readString(file, StandardCharsets.US_ASCII).trim();
                } catch (IOException e) {
                    throw at.error(file + ": cannot read (" + e.getMessage() + ")");
                }
            }
            try {
                if (value.isEmpty() || Base64.getDecoder().decode(value).length == 0) {
                    throw new IllegalArgumentException("empty");
                }
            } catch (IllegalArgumentException e) {
                throw at.error("the secret is not base64 (expected e.g. what tsig-keygen prints)");
            }
            if (keys.putIfAbsent(name, new TsigKey(name, algorithm, value)) != null) {
                throw nameNode.error("'" + name + "' is named by another key");
            }
        }
        return keys;
    }

    private static String knownKey(ConfigNode at, String written, Map<String, TsigKey> keys) {
        String name = keyName(written);
        if (!keys.containsKey(name)) {
            throw at.error("'" + written + "' is not a key of dns.tsig-keys");
        }
        return name;
    }

    private static String keyName(String written) {
        String name = written.trim().toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name : name + ".";
    }
}
