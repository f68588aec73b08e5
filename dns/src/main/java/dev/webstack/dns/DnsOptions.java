package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TextParseException;

/**
 * The DNS tier's settings beyond {@code DnsConfig} (listen address, zones, UDP payload): abuse
 * limits and the secondaries. Immutable; {@link #defaults()} then the {@code with...} methods.
 *
 * @param rateLimit       UDP response rate limiting, default {@link RateLimit#nsdDefaults()}
 * @param transferClients addresses allowed to transfer every zone (AXFR over TCP), default none
 * @param notifyTargets   secondaries sent a NOTIFY (RFC 1996) over UDP when a reload changes a
 *                        zone, default none
 * @param transferKeys    transfer clients whose AXFR must be signed with a TSIG key (RFC 8945), and the key; the
 *                        transfer is then signed with it too. Default none
 * @param notifyKeys      secondaries whose NOTIFY is signed, and the key. Default none
 * @param ixfrDir         where each zone's IXFR history is kept across restarts ({@link IxfrStore});
 *                        default none: in memory only
 */
public record DnsOptions(RateLimit rateLimit, Set<InetAddress> transferClients, List<InetSocketAddress> notifyTargets,
                         Map<InetAddress, TSIG> transferKeys, Map<InetSocketAddress, TSIG> notifyKeys, Optional<Path> ixfrDir) {

    public DnsOptions {
        transferClients = Set.copyOf(transferClients);
        notifyTargets = List.copyOf(notifyTargets);
        transferKeys = Map.copyOf(transferKeys);
        notifyKeys = Map.copyOf(notifyKeys);
    }

    /** With the IXFR history in memory only. */
    public DnsOptions(RateLimit rateLimit, Set<InetAddress> transferClients, List<InetSocketAddress> notifyTargets,
                      Map<InetAddress, TSIG> transferKeys, Map<InetSocketAddress, TSIG> notifyKeys) {
        this(rateLimit, transferClients, notifyTargets, transferKeys, notifyKeys, Optional.empty());
    }

    /** The same options, keeping each zone's IXFR history in a file under {@code dir} ({@link IxfrStore}). */
    public DnsOptions withIxfrDir(Path dir) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets, transferKeys, notifyKeys, Optional.of(dir));
    }

    /** Without TSIG. */
    public DnsOptions(RateLimit rateLimit, Set<InetAddress> transferClients, List<InetSocketAddress> notifyTargets) {
        this(rateLimit, transferClients, notifyTargets, Map.of(), Map.of());
    }

    /** The options {@code webstack.yml}'s dns section sets: rate-limit, transfer-to, notify, tsig-keys. */
    public static DnsOptions from(DnsConfig config) {
        DnsConfig.RateLimit r = config.rateLimit();
        Set<InetAddress> clients = new HashSet<>();
        Map<InetAddress, TSIG> transferKeys = new HashMap<>();
        for (String ip : config.transferTo()) {
            InetAddress address = address(ip);
            clients.add(address);
            String key = config.tsig().transferKeys().get(ip);
            if (key != null) {
                transferKeys.put(address, tsig(config.tsig().keys().get(key)));
            }
        }
        Map<InetSocketAddress, TSIG> notifyKeys = new HashMap<>();
        for (Map.Entry<HostPort, String> e : config.tsig().notifyKeys().entrySet()) {
            notifyKeys.put(socketAddress(e.getKey()), tsig(config.tsig().keys().get(e.getValue())));
        }
        return new DnsOptions(new RateLimit(r.responsesPerSecond(), r.slip(), r.ipv4Prefix(), r.ipv6Prefix()), clients,
                config.notifyTargets().stream().map(DnsOptions::socketAddress).toList(), transferKeys, notifyKeys);
    }

    /** dnsjava's signer and verifier for {@code key}. */
    static TSIG tsig(DnsConfig.TsigKey key) {
        try {
            return new TSIG(TSIG.algorithmToName(key.algorithm()), Name.fromString(key.name()), key.secret());
        } catch (TextParseException e) {
            throw new IllegalArgumentException("dns.tsig-keys: '" + key.name() + "' is not a domain name", e);
        }
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("dns.transfer-to: '" + ip + "' is not an IP address", e);
        }
    }

    private static InetSocketAddress socketAddress(HostPort h) {
        return new InetSocketAddress(h.host(), h.port());
    }

    /** NSD-like: rate limiting on, no transfers, no NOTIFY. */
    public static DnsOptions defaults() {
        return new DnsOptions(RateLimit.nsdDefaults(), Set.of(), List.of());
    }

    public DnsOptions withRateLimit(RateLimit rateLimit) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets, transferKeys, notifyKeys, ixfrDir);
    }

    public DnsOptions withTransferClients(Set<InetAddress> transferClients) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets, transferKeys, notifyKeys, ixfrDir);
    }

    public DnsOptions withNotifyTargets(List<InetSocketAddress> notifyTargets) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets, transferKeys, notifyKeys, ixfrDir);
    }
}
