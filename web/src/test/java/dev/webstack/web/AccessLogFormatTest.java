package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lines a running web tier writes for each {@code web.access-log-format}, read back from its file. */
class AccessLogFormatTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              public: pub
              static: [/static/]
              access-log: log/access.log
            """;
    // A user agent a log line must not be forged by: quotes, a backslash, a byte above 0x7f.
    private static final String UA = "ua \"quoted\" \\ back \u00e9";

    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(dir.resolve("pub/static"));
        Files.writeString(dir.resolve("pub/static/a.css"), "b{}\n");
    }

    private WebConfig config(String extra) {
        return StackConfig.parse(dir.resolve("webstack.yml"), CONFIG + extra).web();
    }

    // The same with é as UTF-8 (RawHttp sends a char per byte): what a JSON log passes through as it came.
    private static final String UA_UTF8 = "ua \"quoted\" \\ back \u00c3\u00a9";

    private static String request(String host, String userAgent) {
        return "GET /static/a.css?x=1&y=%22 HTTP/1.1\r\nHost: " + host + "\r\nReferer: https://ref.example/\r\nUser-Agent: "
                + userAgent + "\r\n\r\n";
    }

    private static String request(String host) {
        return request(host, UA);
    }

    /** Starts a tier with {@code config}, sends one request, stops it: the log's lines. */
    private List<String> lines(WebConfig config, String userAgent, String host) throws IOException {
        WebServer server = WebServer.start(config, TestConfigs.SITE);
        try {
            assertThat(RawHttp.exchange(server.port(), request(host, userAgent)).status()).isEqualTo(200);
        } finally {
            server.close();
        }
        return Files.readAllLines(dir.resolve("log/access.log"), java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void theDefaultIsCombinedThenTheRequestTimeAndId() throws IOException {
        List<String> lines = lines(config(""), UA, TestConfigs.WWW);
        assertThat(lines).hasSize(1);
        assertThat(lines.getFirst()).matches("127\\.0\\.0\\.1 - - \\[\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}] "
                + "\"GET /static/a\\.css\\?x=1&y=%22 HTTP/1\\.1\" 200 4 \"https://ref\\.example/\" "
                + "\"ua \\\\x22quoted\\\\x22 \\\\x5C back \\\\xE9\" \\d+\\.\\d{3} [0-9a-f]{32}");
    }

    @Test
    void combinedIsNginxsPredefinedFormat() throws IOException {
        List<String> lines = lines(config("  access-log-format: combined\n"), UA, TestConfigs.WWW);
        assertThat(lines.getFirst()).matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /static/a\\.css\\?x=1&y=%22 HTTP/1\\.1\" 200 4 "
                + "\"https://ref\\.example/\" \"ua \\\\x22quoted\\\\x22 \\\\x5C back \\\\xE9\"");
    }

    @Test
    void aJsonTemplateWritesOneJsonObjectPerLine() throws IOException {
        String template = "{\"addr\":\"$remote_addr\",\"user\":\"$remote_user\",\"request\":\"$request\",\"status\":$status,"
                + "\"bytes\":$body_bytes_sent,\"ua\":\"$http_user_agent\",\"type\":\"$sent_http_content_type\",\"host\":\"$host\","
                + "\"scheme\":\"$scheme\",\"args\":\"$args\",\"method\":\"$request_method\",\"uri\":\"$request_uri\","
                + "\"proto\":\"$server_protocol\",\"time\":\"$time_iso8601\",\"msec\":$msec,\"took\":$request_time,"
                + "\"id\":\"${request_id}\",\"absent\":\"$http_x_absent\"}";
        long before = System.currentTimeMillis();
        List<String> lines = lines(config("  access-log-format: '" + template + "'\n  access-log-escape: json\n"), UA_UTF8,
                "WWW.FooBar.com:8080");
        long after = System.currentTimeMillis();

        JsonNode line = new ObjectMapper().readTree(lines.getFirst().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThat(line.get("addr").asText()).isEqualTo("127.0.0.1");
        assertThat(line.get("user").asText()).as("a missing value is empty in JSON").isEmpty();
        assertThat(line.get("request").asText()).isEqualTo("GET /static/a.css?x=1&y=%22 HTTP/1.1");
        assertThat(line.get("status").asInt()).isEqualTo(200);
        assertThat(line.get("bytes").asInt()).isEqualTo(4);
        assertThat(line.get("ua").asText()).as("escaped as JSON, read back as sent").isEqualTo("ua \"quoted\" \\ back \u00e9");
        assertThat(line.get("type").asText()).isEqualTo("text/css; charset=utf-8");
        assertThat(line.get("host").asText()).as("lower case, without the port").isEqualTo("www.foobar.com");
        assertThat(line.get("scheme").asText()).isEqualTo("http");
        assertThat(line.get("args").asText()).isEqualTo("x=1&y=%22");
        assertThat(line.get("method").asText()).isEqualTo("GET");
        assertThat(line.get("uri").asText()).isEqualTo("/static/a.css?x=1&y=%22");
        assertThat(line.get("proto").asText()).isEqualTo("HTTP/1.1");
        assertThat(line.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d([+-]\\d\\d:\\d\\d|Z)");
        assertThat(line.get("msec").asDouble() * 1000).isBetween(before - 1_000.0, after + 1_000.0);
        assertThat(line.get("took").asDouble()).isBetween(0.0, 10.0);
        assertThat(line.get("id").asText()).matches("[0-9a-f]{32}");
        assertThat(line.get("absent").asText()).isEmpty();
    }

    @Test
    void escapeNoneWritesValuesAsTheyCame() throws IOException {
        List<String> lines = lines(config("  access-log-format: '$status \"$http_user_agent\" $http_x_absent'\n"
                + "  access-log-escape: none\n"), UA, TestConfigs.WWW);
        assertThat(lines).containsExactly("200 \"" + UA + "\" -");
    }

    @Test
    void theUpstreamVariablesListEveryAppServerTried() throws Exception {
        int down = TestConfigs.refusingPort();
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            WebConfig config = StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.replace("  static: [/static/]\n", "")
                    + "  upstreams: [127.0.0.1:" + down + ", " + app.address() + "]\n"
                    + "  health-check: {interval: 0}\n"
                    + "  access-log-format: '$request_uri $status \"$upstream_addr\" \"$upstream_status\" \"$upstream_response_time\"'\n")
                    .web();
            WebServer server = WebServer.start(config, TestConfigs.SITE);
            try {
                for (int i = 0; i < 4; i++) {
                    assertThat(RawHttp.exchange(server.port(), "GET /echo/" + i + " HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n").status())
                            .isEqualTo(200);
                }
                assertThat(RawHttp.exchange(server.port(), request(TestConfigs.WWW)).status()).as("a static file").isEqualTo(200);
            } finally {
                server.close();
            }
            List<String> lines = Files.readAllLines(dir.resolve("log/access.log"));
            String time = "\\d+\\.\\d{3}";
            String retried = "/echo/\\d 200 \"127\\.0\\.0\\.1:" + down + ", " + app.address().toString().replace(".", "\\.")
                    + "\" \"502, 200\" \"" + time + ", " + time + "\"";
            String direct = "/echo/\\d 200 \"" + app.address().toString().replace(".", "\\.") + "\" \"200\" \"" + time + "\"";
            // A request sent to the refusing server first is retried on the other: both listed. (Lines
            // of different connections may be written in any order: each event loop has its buffer.)
            List<String> proxied = lines.stream().filter(l -> l.startsWith("/echo/")).toList();
            assertThat(proxied).hasSize(4).allSatisfy(l -> assertThat(l).matches(retried + "|" + direct))
                    .anySatisfy(l -> assertThat(l).matches(retried))
                    .as("once the refusing server is ejected").anySatisfy(l -> assertThat(l).matches(direct));
            assertThat(lines).as("not proxied").contains("/static/a.css?x=1&y=%22 200 \"-\" \"-\" \"-\"").hasSize(5);
        }
    }

    /** Sends {@code request} on a connection of its own and reads until the server closes it: every byte of the answer. */
    private static byte[] rawExchange(int port, String request) throws IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            return socket.getInputStream().readAllBytes();
        }
    }

    @Test
    void requestLengthAndBytesSentAreTheBytesOnTheWire() throws Exception {
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            WebConfig config = StackConfig.parse(dir.resolve("webstack.yml"), CONFIG
                    + "  upstreams: [" + app.address() + "]\n"
                    + "  health-check: {interval: 0}\n"
                    + "  access-log-format: '$request_method $request_uri $status $request_length $bytes_sent $body_bytes_sent'\n")
                    .web();
            String get = "GET /static/a.css HTTP/1.1\r\nHost: www.foobar.com\r\nX-Pad:   spaced  \r\nConnection: close\r\n\r\n";
            String head = get.replace("GET", "HEAD");
            String body = "x".repeat(1000);
            String post = "POST /upload?fixed HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n" + body;
            String chunked = "POST /upload?chunked HTTP/1.1\r\nHost: www.foobar.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + "3e8\r\n" + body + "\r\n0\r\n\r\n";
            String missing = "GET /static/none.css HTTP/1.1\r\nHost: www.foobar.com\r\nConnection: close\r\n\r\n";
            // Over the file cache's size: sent with sendfile.
            Files.write(dir.resolve("pub/static/large.bin"), new byte[2 * 1024 * 1024 + 3]);
            String large = "GET /static/large.bin HTTP/1.1\r\nHost: www.foobar.com\r\nConnection: close\r\n\r\n";
            String[] requests = {get, head, post, chunked, missing, large};
            byte[][] answers = new byte[requests.length][];
            WebServer server = WebServer.start(config, TestConfigs.SITE);
            try {
                for (int i = 0; i < requests.length; i++) {
                    answers[i] = rawExchange(server.port(), requests[i]);
                }
            } finally {
                server.close();
            }
            // Lines of different connections may be written in any order (each event loop has its
            // buffer): each is found by its method and target.
            List<String> lines = Files.readAllLines(dir.resolve("log/access.log"));
            assertThat(lines).hasSize(requests.length);
            String[] expected = {"GET /static/a.css 200 ", "HEAD /static/a.css 200 ", "POST /upload?fixed 200 ",
                    "POST /upload?chunked 200 ", "GET /static/none.css 404 ", "GET /static/large.bin 200 "};
            for (int i = 0; i < requests.length; i++) {
                String prefix = expected[i];
                String line = lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(prefix + " in " + lines));
                String[] f = line.split(" ");
                assertThat(Long.parseLong(f[3])).as("$request_length of %s", line).isEqualTo(requests[i].length());
                assertThat(Long.parseLong(f[4])).as("$bytes_sent of %s", line).isEqualTo(answers[i].length);
            }
            assertThat(lines).contains("GET /static/a.css 200 " + get.length() + " " + answers[0].length + " 4")
                    .contains("HEAD /static/a.css 200 " + head.length() + " " + answers[1].length + " 0")
                    .contains("POST /upload?fixed 200 " + post.length() + " " + answers[2].length + " 1000");
        }
    }

    @Test
    void pipelinedRequestsEachHaveTheirOwnLengths() throws IOException {
        WebServer server = WebServer.start(config("  access-log-format: '$request_uri $request_length $bytes_sent'\n"), TestConfigs.SITE);
        String first = "GET /static/a.css?first HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n";
        String second = "GET /static/a.css?second-one HTTP/1.1\r\nHost: www.foobar.com\r\nUser-Agent: pipelined\r\nConnection: close\r\n\r\n";
        byte[] answers;
        try {
            answers = rawExchange(server.port(), first + second);
        } finally {
            server.close();
        }
        List<String> lines = Files.readAllLines(dir.resolve("log/access.log"));
        assertThat(lines).hasSize(2);
        String[] a = lines.get(0).split(" ");
        String[] b = lines.get(1).split(" ");
        assertThat(a[0]).isEqualTo("/static/a.css?first");
        assertThat(Long.parseLong(a[1])).isEqualTo(first.length());
        assertThat(Long.parseLong(b[1])).isEqualTo(second.length());
        assertThat(Long.parseLong(a[2]) + Long.parseLong(b[2])).as("both answers, every byte").isEqualTo(answers.length);
    }

    @Test
    void connectionAndConnectionRequestsNumberConnectionsAndTheirRequests() throws IOException {
        WebServer server = WebServer.start(config("  access-log-format: '$connection $connection_requests $status'\n"), TestConfigs.SITE);
        try {
            try (RawHttp first = new RawHttp(server.port())) {
                for (int i = 0; i < 3; i++) {
                    first.send(request(TestConfigs.WWW));
                    assertThat(first.read().status()).isEqualTo(200);
                }
            }
            assertThat(RawHttp.exchange(server.port(), request(TestConfigs.WWW)).status()).isEqualTo(200);
        } finally {
            server.close();
        }
        List<String> lines = Files.readAllLines(dir.resolve("log/access.log"), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(lines).hasSize(4);
        long first = Long.parseLong(lines.get(0).split(" ")[0]);
        assertThat(lines).containsExactly(first + " 1 200", first + " 2 200", first + " 3 200", lines.get(3));
        assertThat(lines.get(3)).matches("\\d+ 1 200");
        assertThat(Long.parseLong(lines.get(3).split(" ")[0])).as("a later connection's number").isGreaterThan(first);
    }

    @Test
    void aReloadSwitchesTheFormatOnTheSameFile() throws IOException {
        WebServer server = WebServer.start(config(""), TestConfigs.SITE);
        try {
            assertThat(RawHttp.exchange(server.port(), request(TestConfigs.WWW)).status()).isEqualTo(200);
            server.reload(config("  access-log-format: '$status $request_uri'\n"), TestConfigs.SITE);
            assertThat(RawHttp.exchange(server.port(), request(TestConfigs.WWW)).status()).isEqualTo(200);
        } finally {
            server.close();
        }
        List<String> lines = Files.readAllLines(dir.resolve("log/access.log"), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("127.0.0.1 - - [").endsWith(lines.get(0).substring(lines.get(0).length() - 32));
        assertThat(lines.get(1)).isEqualTo("200 /static/a.css?x=1&y=%22");
    }

    @Test
    void reopenAfterTheFileWasMovedWritesTheNextLinesToANewFile() throws IOException {
        WebServer server = WebServer.start(config("  access-log-format: '$connection_requests $status'\n"), TestConfigs.SITE);
        Path log = dir.resolve("log/access.log");
        Path rotated = dir.resolve("log/access.log.1");
        try (RawHttp open = new RawHttp(server.port())) {
            open.send(request(TestConfigs.WWW));
            assertThat(open.read().status()).isEqualTo(200);
            Files.move(log, rotated); // as logrotate does, before it signals the server
            assertThat(server.reopenLogs()).contains(log);
            open.send(request(TestConfigs.WWW));
            assertThat(open.read().status()).as("the connection open across the reopen").isEqualTo(200);
            assertThat(RawHttp.exchange(server.port(), request(TestConfigs.WWW)).status()).isEqualTo(200);
        } finally {
            server.close();
        }
        assertThat(Files.readAllLines(rotated)).as("the line from before, in the moved file").containsExactly("1 200");
        assertThat(Files.readAllLines(log)).as("the lines from after, in a new file").containsExactlyInAnyOrder("2 200", "1 200");
    }

    @Test
    void reopenWithTheLogOffDoesNothing() throws IOException {
        WebConfig off = StackConfig.parse(dir.resolve("webstack.yml"), CONFIG.replace("access-log: log/access.log", "access-log: off")).web();
        WebServer server = WebServer.start(off, TestConfigs.SITE);
        try {
            assertThat(server.reopenLogs()).isEmpty();
            assertThat(RawHttp.exchange(server.port(), request(TestConfigs.WWW)).status()).isEqualTo(200);
        } finally {
            server.close();
        }
        assertThat(dir.resolve("log/access.log")).doesNotExist();
    }
}
