package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.SiteConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSockets through the web tier: a real client (java.net.http) and a real WebSocket app server
 * (Netty's), with the web tier's tunnel between them.
 */
class WebSocketTunnelTest {
    // java.net.http does not let a client set Host, so the tier serves the name the client sends.
    private static final SiteConfig SITE = new SiteConfig("foobar.com", "127.0.0.1");

    @TempDir
    Path dir;
    private WebSocketEchoUpstream upstream;
    private WebServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    private int start(HostPort app, Duration readTimeout) throws IOException {
        server = WebServer.start(
                TestConfigs.web(Files.createDirectories(dir.resolve("public")), dir.resolve("var/log/web-access.log"),
                        List.of(app), readTimeout),
                SITE);
        return server.port();
    }

    private int startWithEcho(Duration readTimeout) throws Exception {
        upstream = new WebSocketEchoUpstream();
        return start(upstream.address(), readTimeout);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        http.close();
    }

    /** What the client received: whole messages (text as String, binary as byte[]), then the end. */
    private static final class Received implements WebSocket.Listener {
        final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<String> end = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] piece = new byte[data.remaining()];
            data.get(piece);
            binary.writeBytes(piece);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            end.complete("close " + statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            end.complete("error " + error);
        }

        Object next() throws InterruptedException {
            Object m = messages.poll(10, TimeUnit.SECONDS);
            assertThat(m).as("a message within 10 s").isNotNull();
            return m;
        }
    }

    private WebSocket open(int port, Received received) throws Exception {
        return http.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"), received)
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void echoesTextBinaryAndLargeMessagesThenClosesCleanly() throws Exception {
        int port = startWithEcho(Duration.ofSeconds(10));
        Received received = new Received();
        WebSocket ws = open(port, received);
        assertThat(received.next()).isEqualTo("welcome");

        ws.sendText("hello through the tier", true).get(5, TimeUnit.SECONDS);
        assertThat(received.next()).isEqualTo("hello through the tier");

        byte[] small = new byte[256];
        for (int i = 0; i < small.length; i++) {
            small[i] = (byte) i;
        }
        ws.sendBinary(ByteBuffer.wrap(small), true).get(5, TimeUnit.SECONDS);
        assertThat((byte[]) received.next()).isEqualTo(small);

        // Far more than one read or socket buffer: it crosses the tunnel in many pieces, both ways.
        byte[] large = new byte[4 * 1024 * 1024];
        new Random(42).nextBytes(large);
        ws.sendBinary(ByteBuffer.wrap(large), true).get(10, TimeUnit.SECONDS);
        assertThat((byte[]) received.next()).isEqualTo(large);

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertThat(received.end.get(5, TimeUnit.SECONDS)).isEqualTo("close 1000 bye");
        assertThat(accessLog()).contains("\"GET /ws HTTP/1.1\" 101 ");
    }

    @Test
    void anAppServerThatDiesClosesTheClient() throws Exception {
        int port = startWithEcho(Duration.ofSeconds(10));
        Received received = new Received();
        WebSocket ws = open(port, received);
        assertThat(received.next()).isEqualTo("welcome");

        upstream.close();

        assertThat(received.end.get(5, TimeUnit.SECONDS)).as("the client sees its WebSocket end").isNotNull();
        assertThat(ws.isInputClosed()).isTrue();
    }

    @Test
    void anIdleTunnelIsClosedAfterTheReadTimeout() throws Exception {
        int port = startWithEcho(Duration.ofMillis(500));
        Received received = new Received();
        WebSocket ws = open(port, received);
        assertThat(received.next()).isEqualTo("welcome");
        // Traffic keeps it open past the timeout...
        for (int i = 0; i < 4; i++) {
            Thread.sleep(250);
            ws.sendText("ping " + i, true).get(5, TimeUnit.SECONDS);
            assertThat(received.next()).isEqualTo("ping " + i);
        }
        assertThat(received.end).isNotDone();
        // ...silence ends it.
        assertThat(received.end.get(5, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void aRefusedHandshakeIsRelayedAsAPlainResponseWithTheUpgradeAskedFor() throws Exception {
        int port = startWithEcho(Duration.ofSeconds(10));
        RawHttp.Response res = RawHttp.exchange(port, "GET /not-a-socket HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Connection: keep-alive, Upgrade\r\n"
                + "Upgrade: WebSocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n");
        assertThat(res.status()).isEqualTo(404);
        assertThat(res.text()).isEqualTo("upgrade=websocket connection=upgrade");
        assertThat(res.header("upgrade")).isNull();
    }

    @Test
    void otherUpgradesAreStrippedAndAnsweredAsHttp11() throws Exception {
        int port = startWithEcho(Duration.ofSeconds(10));
        try (RawHttp client = new RawHttp(port)) {
            client.send("GET /not-a-socket HTTP/1.1\r\n"
                    + "Host: 127.0.0.1\r\n"
                    + "Connection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
            RawHttp.Response res = client.read();
            assertThat(res.status()).isEqualTo(404);
            assertThat(res.text()).isEqualTo("upgrade=null connection=null");
            // Still plain HTTP/1.1 on the same connection.
            client.send(RawHttp.get("/again", "127.0.0.1"));
            assertThat(client.read().status()).isEqualTo(404);
        }
    }

    @Test
    void framesSentRightBehindThe101ReachTheClientAndTheClientsReachTheApp() throws Exception {
        // A raw app server: the 101 and a first frame in one write, as a server may send them.
        byte[] hello = {(byte) 0x81, 5, 'h', 'e', 'l', 'l', 'o'};
        byte[] fromClient = {(byte) 0x82, (byte) 0x80, 1, 2, 3, 4}; // a masked, empty binary frame
        try (ServerSocket app = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<byte[]> appReceived = CompletableFuture.supplyAsync(() -> {
                try (Socket s = app.accept()) {
                    InputStream in = s.getInputStream();
                    readHead(in);
                    OutputStream out = s.getOutputStream();
                    ByteArrayOutputStream reply = new ByteArrayOutputStream();
                    reply.writeBytes(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    reply.writeBytes(hello);
                    out.write(reply.toByteArray());
                    out.flush();
                    return in.readNBytes(fromClient.length);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            int port = start(new HostPort("127.0.0.1", app.getLocalPort()), Duration.ofSeconds(10));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
                client.setSoTimeout(10_000);
                client.getOutputStream().write(("GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                        + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                InputStream in = client.getInputStream();
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 101 Switching Protocols\r\n")
                        .containsIgnoringCase("\r\nupgrade: websocket\r\n")
                        .containsIgnoringCase("\r\nconnection: upgrade\r\n")
                        .containsIgnoringCase("\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
                        .containsIgnoringCase("\r\nvia: 1.1 webstack\r\n");
                assertThat(in.readNBytes(hello.length)).isEqualTo(hello);
                client.getOutputStream().write(fromClient);
                assertThat(appReceived.get(10, TimeUnit.SECONDS)).isEqualTo(fromClient);
            }
        }
    }

    /** Reads up to and including the blank line ending a header section. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed before the end of the headers: " + head);
            }
            head.write(c);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private String accessLog() throws Exception {
        Path log = dir.resolve("var/log/web-access.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String text = "";
        while (System.nanoTime() < deadline) {
            text = Files.exists(log) ? Files.readString(log) : "";
            if (text.contains(" 101 ")) {
                break;
            }
            Thread.sleep(50);
        }
        return text;
    }
}
