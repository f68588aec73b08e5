package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An app server that counts what reaches it: connections and bytes. It reads each request whole
 * (header section, then a Content-Length or chunked body) and only then answers {@code 200 ok}, so a
 * test that has its answer knows every byte of the request has been counted. Another answer can be
 * given, byte for byte ({@link #CountingUpstream(String)}), to play a misbehaving app server.
 */
final class CountingUpstream implements AutoCloseable {
    private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
            .getBytes(StandardCharsets.ISO_8859_1);

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    final AtomicLong connections = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();

    private final byte[] answer;

    CountingUpstream() throws IOException {
        this(new String(OK, StandardCharsets.ISO_8859_1));
    }

    /** Answers every request with {@code answer}, as it is. */
    CountingUpstream(String answer) throws IOException {
        this.answer = answer.getBytes(StandardCharsets.ISO_8859_1);
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
            String head;
            while ((head = readUntilBlankLine(in)) != null) {
                String lower = head.toLowerCase(Locale.ROOT);
                if (lower.contains("\r\ntransfer-encoding: chunked")) {
                    readChunkedBody(in);
                } else {
                    int at = lower.indexOf("\r\ncontent-length:");
                    if (at >= 0) {
                        int eol = lower.indexOf('\r', at + 2);
                        long length = Long.parseLong(lower.substring(at + 18, eol).trim());
                        for (long i = 0; i < length; i++) {
                            read(in);
                        }
                    }
                }
                // Answered only once the whole request is in, so every byte of it is counted by then.
                out.write(answer);
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            // the proxy closed the connection, or sent something this simple reader can't follow
        }
    }

    /** The bytes up to and including the next {@code CRLF CRLF}, or null at the end of the stream. */
    private String readUntilBlankLine(InputStream in) throws IOException {
        StringBuilder text = new StringBuilder();
        while (text.length() < 4 || !text.substring(text.length() - 4).equals("\r\n\r\n")) {
            int b = in.read();
            if (b == -1) {
                return null;
            }
            bytes.incrementAndGet();
            text.append((char) b);
        }
        return text.toString();
    }

    private void readChunkedBody(InputStream in) throws IOException {
        while (true) {
            String sizeLine = readLine(in);
            int semicolon = sizeLine.indexOf(';');
            long size = Long.parseLong(semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon), 16);
            if (size == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailer fields
                }
                return;
            }
            for (long i = 0; i < size + 2; i++) {
                read(in);
            }
        }
    }

    private String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = read(in)) != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    private int read(InputStream in) throws IOException {
        int b = in.read();
        if (b == -1) {
            throw new EOFException();
        }
        bytes.incrementAndGet();
        return b;
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
