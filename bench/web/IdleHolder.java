import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code idle10k} case of {@code bench/web/run.sh}: opens N keep-alive connections to a
 * server, each making one request (so each is a served, idle keep-alive connection, not a
 * half-open one), holds them, then checks that every one is still open and that a fresh client is
 * still served, and prints the resident memory of the server's processes while they were held.
 * A single-file program (JDK only): {@code java bench/web/IdleHolder.java ...}.
 *
 * <pre>
 * java IdleHolder.java PORT PATH HOST CONNECTIONS HOLD_SECONDS PID...
 * </pre>
 * Prints one line: {@code open=N still_open=N fresh=STATUS rss_kb=SUM connect_s=S}. Exits 1 when a
 * connection was closed or the fresh client was not answered 200.
 */
public final class IdleHolder {
    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: java IdleHolder.java PORT PATH HOST CONNECTIONS HOLD_SECONDS PID...");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        String path = args[1];
        String host = args[2];
        int count = Integer.parseInt(args[3]);
        int holdSeconds = Integer.parseInt(args[4]);
        List<Long> pids = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            pids.add(Long.parseLong(args[i]));
        }
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);

        List<SocketChannel> held = new ArrayList<>(count);
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            SocketChannel ch = SocketChannel.open(address);
            int status = exchange(ch, request);
            if (status != 200) {
                System.err.println("connection " + i + ": status " + status);
                System.exit(1);
            }
            ch.configureBlocking(false);
            held.add(ch);
        }
        double connectSeconds = (System.nanoTime() - start) / 1e9;
        Thread.sleep(holdSeconds * 1000L);

        long rssKb = 0;
        for (long pid : pids) {
            rssKb += rssKb(pid);
        }
        int stillOpen = 0;
        ByteBuffer probe = ByteBuffer.allocate(1);
        for (SocketChannel ch : held) {
            probe.clear();
            try {
                // Non-blocking: 0 while the connection is open and quiet, -1 once the server closed it.
                if (ch.read(probe) == 0) {
                    stillOpen++;
                }
            } catch (IOException e) {
                // reset by the server: not open
            }
        }
        int fresh;
        try (SocketChannel ch = SocketChannel.open(address)) {
            fresh = exchange(ch, request);
        }
        for (SocketChannel ch : held) {
            ch.close();
        }
        System.out.printf("open=%d still_open=%d fresh=%d rss_kb=%d connect_s=%.1f%n",
                held.size(), stillOpen, fresh, rssKb, connectSeconds);
        System.exit(stillOpen == count && fresh == 200 ? 0 : 1);
    }

    /** Sends the request and reads the whole response (Content-Length framed); returns its status. */
    private static int exchange(SocketChannel ch, byte[] request) throws IOException {
        ch.write(ByteBuffer.wrap(request));
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        while (true) {
            if (ch.read(buf) < 0) {
                return -1;
            }
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                continue;
            }
            Matcher m = CONTENT_LENGTH.matcher(text.substring(0, end));
            int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
            if (buf.position() >= end + 4 + length) {
                return Integer.parseInt(text.substring(9, 12));
            }
        }
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
