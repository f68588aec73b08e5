package dev.webstack.web;

import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many connections each client address has open ({@code web.max-connections-per-client}, as
 * nginx's {@code limit_conn}), counted per address for IPv4 and per /64 for IPv6, like
 * {@link ClientAccess}'s rates; behind the PROXY protocol ({@code web.real-ip}) by the address its
 * header gives, once it is read. A client's count is dropped when its last connection closes, so
 * the table holds only clients that are connected.
 */
final class ConnectionsPerClient {
    private static final Logger log = LoggerFactory.getLogger(ConnectionsPerClient.class);
    // 0: no limit, and nothing counted. A reload changes it: connections accepted while it was 0 are not counted.
    private volatile int max;
    private final Map<Long, Integer> open = new ConcurrentHashMap<>();

    ConnectionsPerClient(int max) {
        this.max = max;
    }

    /** The most connections per client from now on; 0 for no limit (a reload). */
    void limit(int n) {
        max = n;
    }

    /**
     * Counts {@code ch} for its client — {@code address}, or when null the connection's peer —
     * until it closes; false, and nothing counted, when the client already has the most
     * connections allowed (the caller closes it).
     */
    boolean admit(Channel ch, InetAddress address) {
        int max = this.max;
        if (max == 0) {
            return true;
        }
        InetAddress who = address != null ? address
                : ch.remoteAddress() instanceof InetSocketAddress remote ? remote.getAddress() : null;
        if (who == null) {
            return true;
        }
        long client = ClientAccess.key(who);
        boolean[] admitted = {false};
        open.compute(client, (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= max) {
                return n;
            }
            admitted[0] = true;
            return count + 1;
        });
        if (admitted[0]) {
            ch.closeFuture().addListener(f -> open.computeIfPresent(client, (k, n) -> n == 1 ? null : n - 1));
        } else {
            log.debug("client {}: more than {} connections from its address, closed", who, max);
        }
        return admitted[0];
    }

    /** The connections {@code client}'s address has open (tests). */
    int openFrom(InetSocketAddress client) {
        return open.getOrDefault(ClientAccess.key(client.getAddress()), 0);
    }
}
