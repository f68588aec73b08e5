package dev.webstack.dns;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * The DNS tier's settings beyond {@code DnsConfig} (listen address, zones, UDP payload): abuse
 * limits and the secondaries. Immutable; {@link #defaults()} then the {@code with...} methods.
 *
 * @param rateLimit       UDP response rate limiting, default {@link RateLimit#nsdDefaults()}
 * @param transferClients addresses allowed to transfer every zone (AXFR over TCP), default none
 * @param notifyTargets   secondaries sent a NOTIFY (RFC 1996) over UDP when a reload changes a
 *                        zone, default none
 */
public record DnsOptions(RateLimit rateLimit, Set<InetAddress> transferClients, List<InetSocketAddress> notifyTargets) {

    public DnsOptions {
        transferClients = Set.copyOf(transferClients);
        notifyTargets = List.copyOf(notifyTargets);
    }

    /** The options {@code webstack.yml}'s dns section sets: rate-limit, transfer-to, notify. */
    public static DnsOptions from(dev.webstack.common.config.DnsConfig config) {
        dev.webstack.common.config.DnsConfig.RateLimit r = config.rateLimit();
        Set<InetAddress> clients = new java.util.HashSet<>();
        for (String ip : config.transferTo()) {
            try {
                clients.add(InetAddress.getByName(ip));
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("dns.transfer-to: '" + ip + "' is not an IP address", e);
            }
        }
        return new DnsOptions(new RateLimit(r.responsesPerSecond(), r.slip(), r.ipv4Prefix(), r.ipv6Prefix()), clients,
                config.notifyTargets().stream().map(h -> new InetSocketAddress(h.host(), h.port())).toList());
    }

    /** NSD-like: rate limiting on, no transfers, no NOTIFY. */
    public static DnsOptions defaults() {
        return new DnsOptions(RateLimit.nsdDefaults(), Set.of(), List.of());
    }

    public DnsOptions withRateLimit(RateLimit rateLimit) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets);
    }

    public DnsOptions withTransferClients(Set<InetAddress> transferClients) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets);
    }

    public DnsOptions withNotifyTargets(List<InetSocketAddress> notifyTargets) {
        return new DnsOptions(rateLimit, transferClients, notifyTargets);
    }
}
