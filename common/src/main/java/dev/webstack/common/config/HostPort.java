package dev.webstack.common.config;

import java.net.InetSocketAddress;

/** A listening or target address written as {@code host:port} in webstack.yml. */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: empty (expected: a name or an IP address)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
    }

    /** Parses {@code host:port} or {@code [v6]:port}. */
    public static HostPort parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("address: missing (expected: host:port)");
        }
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("address: '" + text + "' (expected: host:port, e.g. 127.0.0.1:8080)");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address: '" + text + "' has a port that is not a number");
        }
        return new HostPort(host, port);
    }

    public HostPort withPort(int newPort) {
        return new HostPort(host, newPort);
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
