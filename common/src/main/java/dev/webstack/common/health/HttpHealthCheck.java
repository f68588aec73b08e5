package dev.webstack.common.health;

import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code GET path} with a given Host header over a plain socket; healthy when the status is 2xx.
 * A raw socket (not java.net.http) so that the probe sets exactly the Host it needs, e.g. the
 * site's name for the web tier, and nothing else.
 */
public final class HttpHealthCheck implements HealthCheck {
    private final HostPort target;
    private final String host;
    private final String path;

    public HttpHealthCheck(HostPort target, String host, String path) {
        this.target = target;
        this.host = host;
        this.path = path;
    }

    @Override
    public Result check(Duration timeout) {
        int ms = (int) Math.max(1, timeout.toMillis());
        try (Socket s = new Socket()) {
            s.connect(target.toSocketAddress(), ms);
            s.setSoTimeout(ms);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\nUser-Agent: webstack-health\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                line.append((char) c);
            }
            String status = line.toString().trim();
            String[] parts = status.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                return Result.failed("GET " + path + ": not an HTTP answer: '" + status + "'");
            }
            int code = Integer.parseInt(parts[1]);
            return code >= 200 && code < 300
                    ? Result.ok("GET " + path + " -> " + code)
                    : Result.failed("GET " + path + " -> " + code);
        } catch (IOException | NumberFormatException e) {
            return Result.failed("GET " + path + ": " + e.getMessage());
        }
    }
}
