package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An app server that counts what reaches it: connections and bytes. It answers every header
 * section it sees ({@code CRLF CRLF}) with {@code 200 ok}, so a request without a body goes through.
 */
final class CountingUpstream implements AutoCloseable {
    private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
            .getBytes(StandardCharsets.ISO_8859_1);

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    final AtomicLong connections = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();

    CountingUpstream() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    HostPort address() {
        return new HostPort("127.0.0.1", server.getLocalPort());
    }

    void reset() {
        connections.set(0);
        bytes.set(0);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                threads.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int matched = 0;
            int b;
            while ((b = in.read()) != -1) {
                bytes.incrementAndGet();
                matched = switch (matched) {
                    case 0, 2 -> b == '\r' ? matched + 1 : 0;
                    case 1 -> b == '\n' ? 2 : (b == '\r' ? 1 : 0);
                    case 3 -> b == '\n' ? 4 : (b == '\r' ? 1 : 0);
                    default -> 0;
                };
                if (matched == 4) {
                    out.write(OK);
                    out.flush();
                    matched = 0;
                }
            }
        } catch (IOException e) {
            // the proxy closed the connection
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
