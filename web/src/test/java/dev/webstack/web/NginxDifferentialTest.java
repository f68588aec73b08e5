package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same raw requests sent to nginx (Debian's package; {@code .ci/run} installs it) and to the
 * web tier, both serving the same folder from {@code /} with {@code index.html}: the status lines
 * must be the same, except for the differences listed in {@link #DELIBERATE}, where each side must
 * answer what the list says (so the list stays true). The corpus covers methods, targets (origin
 * and absolute form, {@code //} and dot segments, encodings), Host, versions, ranges and
 * preconditions, and framing; the malformed-request and traversal corpora have tests of their own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NginxDifferentialTest {
    private static final String H = "Host: www.foobar.com\r\n";

    /** Where webstack answers differently from nginx on purpose: nginx's status, webstack's, and why. */
    private record Deliberate(int nginx, int webstack, String why) {}

    private static final Map<String, Deliberate> DELIBERATE = Map.ofEntries(
            Map.entry("OPTIONS *", new Deliberate(400, 502, "a request for the server as a whole goes to the app (none here: 502)")),
            Map.entry("lowercase method", new Deliberate(400, 405, "a method is a case-sensitive token (RFC 9110 section 9.1); 'get' is one this location does not allow")),
            Map.entry("absolute form, other host", new Deliberate(200, 421, "the target's host is not the site's (nginx falls back to its default server)")),
            Map.entry("symlink out of the root", new Deliberate(200, 404, "no file outside the root, through links either (nginx's disable_symlinks is off by default)")),
            Map.entry("two ranges", new Deliberate(206, 200, "one range at a time; the whole file for several (RFC 9110 section 14.2 allows it)")),
            Map.entry("If-Modified-Since in the future", new Deliberate(200, 304, "RFC 9110 section 13.1.3 compares the dates; nginx matches them exactly")),
            Map.entry("bare LF line ends", new Deliberate(200, 400, "only CRLF ends a line: two parsers that disagree on line ends are a smuggling risk")),
            Map.entry("header section too large", new Deliberate(400, 431, "RFC 6585 section 5")),
            Map.entry("HEAD with a range", new Deliberate(206, 200, "RFC 9110 section 14.2: range handling is defined for GET only; a server MUST ignore Range on HEAD")),
            Map.entry("range ending before it starts", new Deliberate(416, 200, "an invalid range-spec (RFC 9110 section 14.1.1): the header is ignored, as section 14.2 allows")),
            Map.entry("range that is not numbers", new Deliberate(416, 200, "an invalid range-spec (RFC 9110 section 14.1.1): the header is ignored, as section 14.2 allows")),
            Map.entry("Transfer-Encoding: gzip", new Deliberate(501, 400, "chunked not last: RFC 9112 section 6.3 says 400 and close")));

    private final Map<String, String> corpus = new LinkedHashMap<>();
    @TempDir
    static Path dir;
    private TestNginx nginx;
    private WebServer webstack;

    @BeforeAll
    void start() throws Exception {
        Path root = dir.resolve("public");
        nginx = TestNginx.start(dir, """
                server { listen 127.0.0.1:%2$d; server_name www.foobar.com; root %1$s/public; index index.html; }
                """);
        Files.createDirectories(root.resolve("dir"));
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("index.html"), "<!DOCTYPE html><title>home</title>\n");
        Files.writeString(root.resolve("dir/index.html"), "<!DOCTYPE html><title>dir</title>\n");
        Files.writeString(root.resolve("plain.txt"), "hi\n");
        Files.writeString(root.resolve("a b.txt"), "a file with a space\n");
        Files.writeString(dir.resolve("outside.txt"), "outside the root\n");
        Files.createSymbolicLink(root.resolve("link"), dir.resolve("outside.txt"));

        Files.writeString(dir.resolve("webstack.yml"), """
                web:
                  listen: 127.0.0.1:0
                  admin: 127.0.0.1:0
                  public: public
                  access-log: off
                  locations:
                    - path: /
                      root: public
                      index: [index.html]
                """);
        webstack = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), Files.readString(dir.resolve("webstack.yml"))).web(),
                TestConfigs.SITE);

        add("GET /", "GET / HTTP/1.1\r\n" + H + "\r\n");
        add("HEAD /", "HEAD / HTTP/1.1\r\n" + H + "\r\n");
        add("a file", "GET /plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("a file's name with %20", "GET /a%20b.txt HTTP/1.1\r\n" + H + "\r\n");
        add("no such file", "GET /nope.txt HTTP/1.1\r\n" + H + "\r\n");
        add("HEAD of no such file", "HEAD /nope.txt HTTP/1.1\r\n" + H + "\r\n");
        add("folder with index", "GET /dir/ HTTP/1.1\r\n" + H + "\r\n");
        add("folder without '/'", "GET /dir HTTP/1.1\r\n" + H + "\r\n");
        add("folder without '/', query", "GET /dir?a=1 HTTP/1.1\r\n" + H + "\r\n");
        add("folder without index", "GET /empty/ HTTP/1.1\r\n" + H + "\r\n");
        add("a file with '/' after it", "GET /plain.txt/ HTTP/1.1\r\n" + H + "\r\n");
        add("index.html by name", "GET /index.html HTTP/1.1\r\n" + H + "\r\n");
        add("POST to a file", "POST /plain.txt HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\n");
        add("PUT to a file", "PUT /plain.txt HTTP/1.1\r\n" + H + "Content-Length: 1\r\n\r\nx");
        add("DELETE", "DELETE /plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("OPTIONS", "OPTIONS /plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("OPTIONS *", "OPTIONS * HTTP/1.1\r\n" + H + "\r\n");
        add("TRACE", "TRACE / HTTP/1.1\r\n" + H + "\r\n");
        add("unknown method", "FOO / HTTP/1.1\r\n" + H + "\r\n");
        add("lowercase method", "get / HTTP/1.1\r\n" + H + "\r\n");
        add("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n");
        add("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n");
        add("two Host headers", "GET / HTTP/1.1\r\n" + H + H + "\r\n");
        add("Host with a port", "GET /plain.txt HTTP/1.1\r\nHost: www.foobar.com:80\r\n\r\n");
        add("Host with '/'", "GET /plain.txt HTTP/1.1\r\nHost: a/b\r\n\r\n");
        add("HTTP/2.0 request line", "GET / HTTP/2.0\r\n" + H + "\r\n");
        add("HTTP/1.2", "GET / HTTP/1.2\r\n" + H + "\r\n");
        add("absolute form", "GET http://www.foobar.com/plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("absolute form, other host", "GET http://other.example/plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("no leading '/'", "GET plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("'..' above the root", "GET /../outside.txt HTTP/1.1\r\n" + H + "\r\n");
        add("'%2e%2e' above the root", "GET /%2e%2e/outside.txt HTTP/1.1\r\n" + H + "\r\n");
        add("'..' inside the root", "GET /dir/../plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("'.' segment", "GET /./plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("'//'", "GET //plain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("'//' to a folder", "GET //dir//index.html HTTP/1.1\r\n" + H + "\r\n");
        add("symlink out of the root", "GET /link HTTP/1.1\r\n" + H + "\r\n");
        add("%00", "GET /plain.txt%00 HTTP/1.1\r\n" + H + "\r\n");
        add("bad %-escape", "GET /pl%zzain.txt HTTP/1.1\r\n" + H + "\r\n");
        add("bad %-escape in the query", "GET /plain.txt?x=%zz HTTP/1.1\r\n" + H + "\r\n");
        add("fragment", "GET /plain.txt#frag HTTP/1.1\r\n" + H + "\r\n");
        add("trailing dot", "GET /plain.txt. HTTP/1.1\r\n" + H + "\r\n");
        add("one range", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-0\r\n\r\n");
        add("suffix range", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=-1\r\n\r\n");
        add("range past the end", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=10-20\r\n\r\n");
        add("two ranges", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-0,1-1\r\n\r\n");
        add("range of another unit", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: pages=1\r\n\r\n");
        add("If-Modified-Since in the future", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Modified-Since: Tue, 01 Jan 2036 00:00:00 GMT\r\n\r\n");
        add("If-Modified-Since long ago", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT\r\n\r\n");
        add("If-None-Match: *", "GET /plain.txt HTTP/1.1\r\n" + H + "If-None-Match: *\r\n\r\n");
        add("If-Match another tag", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Match: \"zzz\"\r\n\r\n");
        add("If-Unmodified-Since long ago", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Unmodified-Since: Mon, 01 Jan 1990 00:00:00 GMT\r\n\r\n");
        String modified = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                Files.getLastModifiedTime(root.resolve("plain.txt")).toInstant().atZone(java.time.ZoneOffset.UTC));
        add("If-Modified-Since the file's date", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Modified-Since: " + modified + "\r\n\r\n");
        add("If-Unmodified-Since the file's date", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Unmodified-Since: " + modified + "\r\n\r\n");
        add("If-Range the file's date", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-0\r\nIf-Range: " + modified + "\r\n\r\n");
        add("If-Range another date", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-0\r\nIf-Range: Mon, 01 Jan 1990 00:00:00 GMT\r\n\r\n");
        add("If-Range another tag", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-0\r\nIf-Range: \"zzz\"\r\n\r\n");
        add("If-Modified-Since not a date", "GET /plain.txt HTTP/1.1\r\n" + H + "If-Modified-Since: yesterday\r\n\r\n");
        add("If-None-Match a weak tag", "GET /plain.txt HTTP/1.1\r\n" + H + "If-None-Match: W/\"zzz\"\r\n\r\n");
        add("If-None-Match two tags and *", "GET /plain.txt HTTP/1.1\r\n" + H + "If-None-Match: \"a\", *\r\n\r\n");
        add("HEAD with a range", "HEAD /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-0\r\n\r\n");
        add("range from the start", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=0-\r\n\r\n");
        add("range ending before it starts", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=2-1\r\n\r\n");
        add("range that is not numbers", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes=a-b\r\n\r\n");
        add("range with spaces", "GET /plain.txt HTTP/1.1\r\n" + H + "Range: bytes = 0-0\r\n\r\n");
        add("Accept-Encoding: gzip", "GET /plain.txt HTTP/1.1\r\n" + H + "Accept-Encoding: gzip\r\n\r\n");
        add("a query on a file", "GET /plain.txt?v=1 HTTP/1.1\r\n" + H + "\r\n");
        add("Expect: 100-continue to a file", "POST /plain.txt HTTP/1.1\r\n" + H + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        add("Expect: something else", "GET /plain.txt HTTP/1.1\r\n" + H + "Expect: foo\r\n\r\n");
        add("Content-Length and Transfer-Encoding", "POST / HTTP/1.1\r\n" + H + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        add("Transfer-Encoding: gzip", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\n");
        add("GET with a body", "GET /plain.txt HTTP/1.1\r\n" + H + "Content-Length: 3\r\n\r\nabc");
        add("space before the colon", "GET / HTTP/1.1\r\nHost : www.foobar.com\r\n\r\n");
        add("bare LF line ends", "GET / HTTP/1.1\nHost: www.foobar.com\n\n");
        add("request line too long", "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n" + H + "\r\n");
        add("header section too large", "GET / HTTP/1.1\r\n" + H + "X-Big: " + "b".repeat(20000) + "\r\n\r\n");
        add("Connection: close", "GET /plain.txt HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n");
        add("HTTP/1.0 keep-alive", "GET /plain.txt HTTP/1.0\r\n" + H + "Connection: keep-alive\r\n\r\n");
    }

    @AfterAll
    void stop() throws Exception {
        if (webstack != null) {
            webstack.close();
        }
        if (nginx != null) {
            nginx.close();
        }
    }

    private void add(String name, String request) {
        corpus.put(name, request);
    }

    @Test
    void answersWithNginxsStatusesButForTheListedDifferences() throws IOException {
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, String> c : corpus.entrySet()) {
            int theirs = status(nginx.port(), c.getValue());
            int ours = status(webstack.port(), c.getValue());
            Deliberate d = DELIBERATE.get(c.getKey());
            if (d == null ? theirs != ours : theirs != d.nginx() || ours != d.webstack()) {
                mismatches.add(c.getKey() + ": nginx " + theirs + ", webstack " + ours
                        + (d == null ? "" : " (listed as nginx " + d.nginx() + ", webstack " + d.webstack() + ": " + d.why() + ")"));
            }
        }
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(60).containsKeys(DELIBERATE.keySet().toArray(String[]::new));
        assertThat(mismatches).as("cases where webstack and nginx differ unlisted, or not as listed").isEmpty();
    }

    /** The status of the first answer to {@code request} (0 for none within 2 s), on a connection of its own. */
    private static int status(int port, String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(2000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            byte[] head = new byte[12];
            int n = 0;
            try {
                for (int r; n < head.length && (r = s.getInputStream().read(head, n, head.length - n)) > 0; ) {
                    n += r;
                }
            } catch (java.net.SocketTimeoutException | java.net.SocketException silent) {
                return 0;
            }
            String line = new String(head, 0, n, StandardCharsets.ISO_8859_1);
            return line.startsWith("HTTP/1.") && n == 12 ? Integer.parseInt(line.substring(9, 12)) : 0;
        }
    }
}
