package dev.webstack.web;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many connections each client address has open ({@code web.max-connections-per-client}, as
 * nginx's {@code limit_conn}), counted per address for IPv4 and per /64 for IPv6, like
 * {@link ClientAccess}'s rates. A client's count is dropped when its last connection closes, so
 * the table holds only clients that are connected.
 */
final class ConnectionsPerClient {
    private final int max;
    private final Map<Long, Integer> open = new ConcurrentHashMap<>();

    ConnectionsPerClient(int max) {
        this.max = max;
    }

    /**
     * Counts {@code ch} for its client until it closes; false, and nothing counted, when the client
     * already has the most connections allowed.
     */
    boolean admit(Channel ch) {
        if (!(ch.remoteAddress() instanceof InetSocketAddress remote) || remote.getAddress() == null) {
            return true;
        }
        long client = ClientAccess.key(remote.getAddress());
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
        }
        return admitted[0];
    }

    /** The connections {@code client}'s address has open (tests). */
    int openFrom(InetSocketAddress client) {
        return open.getOrDefault(ClientAccess.key(client.getAddress()), 0);
    }
}
