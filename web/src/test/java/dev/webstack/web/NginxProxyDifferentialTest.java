package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same raw requests sent through nginx's {@code proxy_pass} (Debian's package, upstream
 * keep-alive, {@code Host} passed on) and through the web tier to one app server
 * ({@link TestUpstream}, which answers with what it received): the client's status and what the
 * app server saw (request line, headers, body) must be the same, except for the headers only
 * webstack adds ({@code X-Forwarded-*}, {@code Via}, {@code X-Request-Id}) and the differences
 * listed in {@link #DELIBERATE}, which must still differ (so the list stays true).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NginxProxyDifferentialTest {
    private static final String H = "Host: www.foobar.com\r\n";
    /** Headers webstack adds on purpose (ProxyHeaders), nginx's config here does not. */
    private static final Set<String> ADDED = Set.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "via", "x-request-id");

    /** Where webstack forwards differently from nginx on purpose, and why. */
    private static final Map<String, String> DELIBERATE = Map.of(
            "headers the Connection header names", "they are hop-by-hop (RFC 9110 section 7.6.1), and so is Proxy-Connection; nginx passes them on",
            "raw UTF-8 in the path", "percent-encoded: the same URI, in the only form RFC 3986 allows; nginx passes the raw bytes",
            "Transfer-Encoding: gzip, chunked", "400 and close (RFC 9112 section 6.3); nginx answers 501");

    /** A request; {@code body} is sent only once a 100 (Continue) came, when not null. */
    private record Case(String head, String body) {}

    /** What came back: the client's status, and what the app server saw as it reported it. */
    private record Outcome(int status, String seen) {}

    private final Map<String, Case> corpus = new LinkedHashMap<>();
    @TempDir
    static Path dir;
    private TestUpstream app;
    private TestNginx nginx;
    private WebServer webstack;

    @BeforeAll
    void start() throws Exception {
        app = new TestUpstream("app-1", 0);
        nginx = TestNginx.start(dir, """
                upstream app { server 127.0.0.1:%d; keepalive 8; }
                server {
                  listen 127.0.0.1:%%2$d; server_name www.foobar.com;
                  location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host; }
                }
                """.formatted(app.address().port()));
        webstack = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(app.address()),
                Duration.ofSeconds(5)), TestConfigs.SITE);

        add("GET with a query", "GET /echo/a?b=c&d=%20 HTTP/1.1\r\n" + H + "\r\n");
        add("encoded path", "GET /echo/a%20b/%7e/%2F HTTP/1.1\r\n" + H + "\r\n");
        add("dot segments", "GET /echo/x/../y HTTP/1.1\r\n" + H + "\r\n");
        add("';' in the path", "GET /echo/a;b=c/d HTTP/1.1\r\n" + H + "\r\n");
        add("HEAD", "HEAD /echo/h HTTP/1.1\r\n" + H + "\r\n");
        add("OPTIONS", "OPTIONS /echo/o HTTP/1.1\r\n" + H + "\r\n");
        add("an unknown method", "PURGE /echo/p HTTP/1.1\r\n" + H + "\r\n");
        add("absolute form", "GET http://www.foobar.com/echo/abs?q=1 HTTP/1.1\r\n" + H + "\r\n");
        add("Host with a port", "GET /echo/port HTTP/1.1\r\nHost: www.foobar.com:80\r\n\r\n");
        add("HTTP/1.0", "GET /echo/old HTTP/1.0\r\n" + H + "\r\n");
        add("HTTP/1.0 keep-alive", "GET /echo/old HTTP/1.0\r\n" + H + "Connection: keep-alive\r\n\r\n");
        add("Connection: close", "GET /echo/c HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n");
        add("headers the Connection header names", "GET /echo/hop HTTP/1.1\r\n" + H
                + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                + "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-Kept: 2\r\n\r\n");
        add("repeated headers", "GET /echo/d HTTP/1.1\r\n" + H + "X-A: 1\r\nX-A: 2\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n");
        add("padded and empty values", "GET /echo/s HTTP/1.1\r\n" + H + "X-Padded:    padded   \r\nX-Empty:\r\n\r\n");
        add("a long value", "GET /echo/l HTTP/1.1\r\n" + H + "X-Long: " + "v".repeat(6000) + "\r\n\r\n");
        add("X-Forwarded-For given", "GET /echo/xff HTTP/1.1\r\n" + H + "X-Forwarded-For: 203.0.113.9\r\n\r\n");
        add("a body", "POST /upload HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello");
        add("a body's headers", "POST /echo/b HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello");
        add("an empty body", "POST /echo/e HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\n");
        add("POST without a body", "POST /echo/n HTTP/1.1\r\n" + H + "\r\n");
        add("a chunked body", "POST /upload HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\n");
        add("a chunked body's headers", "POST /echo/ch HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        add("chunked with trailers", "POST /upload HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
        add("a body with DELETE", "DELETE /echo/x HTTP/1.1\r\n" + H + "Content-Length: 3\r\n\r\nabc");
        add("a 100 KB body", "POST /upload HTTP/1.1\r\n" + H + "Content-Length: 100000\r\n\r\n" + "z".repeat(100_000));
        add("a 70 KB chunk", "POST /upload HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(70_000) + "\r\n" + "y".repeat(70_000) + "\r\n0\r\n\r\n");
        corpus.put("Expect: 100-continue", new Case("POST /upload HTTP/1.1\r\n" + H + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n", "hello"));
        add("Transfer-Encoding: gzip, chunked", "POST /upload HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
        add("raw UTF-8 in the path", new String("GET /echo/caf\u00e9 HTTP/1.1\r\n".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1) + H + "\r\n");
        add("a missing path", "GET /nothing/here HTTP/1.1\r\n" + H + "\r\n");
    }

    @AfterAll
    void stop() throws Exception {
        if (webstack != null) {
            webstack.close();
        }
        if (nginx != null) {
            nginx.close();
        }
        if (app != null) {
            app.close();
        }
    }

    private void add(String name, String request) {
        corpus.put(name, new Case(request, null));
    }

    @Test
    void forwardsAsNginxDoesButForTheListedDifferences() throws IOException {
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, Case> c : corpus.entrySet()) {
            Outcome theirs = exchange(nginx.port(), c.getValue());
            Outcome ours = exchange(webstack.port(), c.getValue());
            String why = DELIBERATE.get(c.getKey());
            if (why == null && !theirs.equals(ours)) {
                mismatches.add(c.getKey() + ":\n  nginx    " + theirs + "\n  webstack " + ours);
            } else if (why != null && theirs.equals(ours)) {
                mismatches.add(c.getKey() + ": listed as different (" + why + "), but the same: " + ours);
            }
        }
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(30).containsKeys(DELIBERATE.keySet().toArray(String[]::new));
        assertThat(mismatches).as("cases where webstack and nginx forward differently, unlisted, or the same though listed").isEmpty();
    }

    /** One request on a connection of its own; the app server's report without the headers only webstack adds. */
    private static Outcome exchange(int port, Case c) throws IOException {
        try (RawHttp http = new RawHttp(port)) {
            http.send(c.head());
            RawHttp.Response res = http.read(c.head().startsWith("HEAD "));
            if (c.body() != null && res.status() == 100) {
                http.send(c.body());
                res = http.read();
            }
            String seen = res.text().lines()
                    .filter(l -> !ADDED.contains(l.split(":", 2)[0].toLowerCase(Locale.ROOT)))
                    .collect(Collectors.joining("\n"));
            return new Outcome(res.status(), seen);
        }
    }
}
