package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@value #SIZE}-byte upload and download through the proxy, with the web tier in a child JVM
 * whose heap is capped at 128 MB (and Netty's direct memory with it): bodies must stream, with
 * backpressure, not be gathered. Bytes are generated on the fly and checked by CRC-32 on arrival.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LargeBodyStreamingTest {
    static final long SIZE = 1024L * 1024 * 1024;
    private static final int BLOCK = 64 * 1024;

    private HttpServer upstream;
    private final ExecutorService upstreamThreads = Executors.newCachedThreadPool();
    private Process child;
    private int port;

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("public"));
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.setExecutor(upstreamThreads);
        upstream.createContext("/upload", ex -> {
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] buf = new byte[BLOCK];
            try (InputStream in = ex.getRequestBody()) {
                int r;
                while ((r = in.read(buf)) != -1) {
                    crc.update(buf, 0, r);
                    n += r;
                }
            }
            byte[] answer = (n + " " + Long.toHexString(crc.getValue())).getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, answer.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(answer);
            }
        });
        upstream.createContext("/download", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, SIZE);
            try (OutputStream out = ex.getResponseBody()) {
                byte[] block = new byte[BLOCK];
                for (long sent = 0; sent < SIZE; sent += BLOCK) {
                    fill(block, sent);
                    out.write(block, 0, (int) Math.min(BLOCK, SIZE - sent));
                }
            }
        });
        upstream.start();

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        child = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                ChildWebTier.class.getName(), dir.toString(), "127.0.0.1:" + upstream.getAddress().getPort())
                .redirectErrorStream(true)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("PORT ")) {
            // log lines of the child
        }
        assertThat(line).as("the child web tier's port line").isNotNull();
        port = Integer.parseInt(line.substring(5).trim());
        // Keep draining its output, so that it never blocks on a full pipe.
        upstreamThreads.execute(() -> {
            try {
                out.transferTo(Writer.nullWriter());
            } catch (IOException e) {
                // the child ended
            }
        });
    }

    @AfterAll
    void stop() throws Exception {
        if (child != null) {
            child.getOutputStream().close();
            if (!child.waitFor(15, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
        upstream.stop(0);
        upstreamThreads.shutdownNow();
    }

    /** The byte at each position is a function of the position, so both ends can compute the CRC. */
    private static void fill(byte[] block, long offset) {
        for (int i = 0; i < block.length; i++) {
            long p = offset + i;
            block[i] = (byte) (p * 31 + (p >>> 11));
        }
    }

    private static long expectedCrc() {
        CRC32 crc = new CRC32();
        byte[] block = new byte[BLOCK];
        for (long sent = 0; sent < SIZE; sent += BLOCK) {
            fill(block, sent);
            crc.update(block, 0, (int) Math.min(BLOCK, SIZE - sent));
        }
        return crc.getValue();
    }

    @Test
    void aLargeUploadStreamsThroughWithTheHeapCapped() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: " + SIZE + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[BLOCK];
            for (long sent = 0; sent < SIZE; sent += BLOCK) {
                fill(block, sent);
                out.write(block, 0, (int) Math.min(BLOCK, SIZE - sent));
            }
            out.flush();
            InputStream in = s.getInputStream();
            Map<String, String> headers = new LinkedHashMap<>();
            int status = readHead(in, headers);
            byte[] body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
            assertThat(status).isEqualTo(200);
            assertThat(new String(body, StandardCharsets.US_ASCII)).isEqualTo(SIZE + " " + Long.toHexString(expectedCrc()));
        }
        assertThat(child.isAlive()).as("the web tier survived the upload").isTrue();
    }

    @Test
    void aLargeDownloadStreamsThroughWithTheHeapCapped() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(60_000);
            s.getOutputStream().write("GET /download HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            Map<String, String> headers = new LinkedHashMap<>();
            assertThat(readHead(in, headers)).isEqualTo(200);
            assertThat(headers.get("content-length")).isEqualTo(String.valueOf(SIZE));
            CRC32 crc = new CRC32();
            byte[] buf = new byte[BLOCK];
            long n = 0;
            while (n < SIZE) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, SIZE - n));
                if (r == -1) {
                    break;
                }
                crc.update(buf, 0, r);
                n += r;
            }
            assertThat(n).isEqualTo(SIZE);
            assertThat(Long.toHexString(crc.getValue())).isEqualTo(Long.toHexString(expectedCrc()));
        }
        assertThat(child.isAlive()).as("the web tier survived the download").isTrue();
    }

    private static int readHead(InputStream in, Map<String, String> headers) throws IOException {
        String status = line(in);
        String l;
        while (!(l = line(in)).isEmpty()) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
        return Integer.parseInt(status.split(" ")[1]);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            buf.write(c);
        }
        String s = buf.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
