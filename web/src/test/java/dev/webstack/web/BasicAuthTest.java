package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.LocationConfig;
import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code auth-basic}: htpasswd hashes made by other tools (Apache's {@code htpasswd} and
 * {@code openssl passwd}) checked, the file's errors, and 401s, passes and the access log's user
 * over real sockets.
 */
class BasicAuthTest {
    private static final String PASSWORD = "open sesame";
    /** Made by {@code htpasswd -nbB -C 5 alice 'open sesame'}. */
    private static final String ALICE = "alice:$2y$05$zv1OQlqp7rafDdgG5zg5tOiZknHqpIngRs/h66E90ThEF6u3BzE8S";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "htpasswd -B            | $2y$05$zv1OQlqp7rafDdgG5zg5tOiZknHqpIngRs/h66E90ThEF6u3BzE8S",
            "htpasswd -m (apr1)     | $apr1$n8KZJilY$Aq01zSQZ2Bt8RLdZuov9F/",
            "openssl passwd -apr1   | $apr1$abcdefgh$T64oOxnD8c28.dQa.2Lty1",
            "openssl passwd -1      | $1$abcdefgh$9qMkHazuSy1Q8myEum7yb/",
            "openssl passwd -5      | $5$abcdefghijklmnop$9AXbkmNPW3wyPQxVu0w8mUO/nhK.OxpUU1Aym36Vie8",
            "openssl passwd -6      | $6$abcdefghijklmnop$ZeRt9WAWsXqI2sYEefoDhOsOt.Unaz4cnVualhcF6kzBKBCwJBzK2hHbgwR7956aV1klYIb/4UoLodpp0pCFV/",
            "htpasswd -s            | {SHA}W8r/fyL/UzygmbNAjq2HbA67qac=",
            "plain                  | {PLAIN}open sesame",
    })
    void hashesMadeByOtherToolsMatchTheirPasswordOnly(String tool, String hash) {
        assertThat(BasicAuth.matches(PASSWORD, hash)).as(tool).isTrue();
        assertThat(BasicAuth.matches("open sesamE", hash)).as(tool + ", one letter off").isFalse();
        assertThat(BasicAuth.matches("", hash)).isFalse();
    }

    @Test
    void aFileWithAnUnknownHashOrABadLineIsRefusedWithItsLine() throws IOException {
        Path file = dir.resolve("htpasswd");
        Files.writeString(file, "# staff\n\n" + ALICE + "\nbob:abJnggxhB/yWI\n");
        assertThatThrownBy(() -> new BasicAuth(new LocationConfig.BasicAuth("Staff", file)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ":4: the hash of bob is none of bcrypt ($2y$), SHA-crypt ($5$, $6$), MD5-crypt ($1$, $apr1$), {SHA} or {PLAIN}");
        Files.writeString(file, ALICE + "\nno colon here\n");
        assertThatThrownBy(() -> new BasicAuth(new LocationConfig.BasicAuth("Staff", file))).hasMessage(file + ":2: expected user:hash");
        Files.writeString(file, ALICE + "\n" + ALICE + "\n");
        assertThatThrownBy(() -> new BasicAuth(new LocationConfig.BasicAuth("Staff", file))).hasMessage(file + ":2: alice is in the file twice");
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String get(String path, String authorization) {
        return "GET " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\n" + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                + "\r\n";
    }

    @Test
    void overSocketsOnlyTheFilesUsersGetThroughAndAChangedFileCountsWithinASecond() throws Exception {
        Path users = dir.resolve("htpasswd");
        Files.writeString(users, ALICE + "\nbob:$apr1$n8KZJilY$Aq01zSQZ2Bt8RLdZuov9F/\n");
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            String yaml = """
                    web:
                      listen: 127.0.0.1:0
                      admin: 127.0.0.1:0
                      access-log: log/access.log
                      upstreams: [127.0.0.1:%d]
                      locations:
                        - path: /echo/
                          proxy: app
                          auth-basic: Staff only
                          auth-basic-user-file: htpasswd
                    """.formatted(app.address().port());
            WebServer server = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), yaml).web(), TestConfigs.SITE);
            try {
                RawHttp.Response none = RawHttp.exchange(server.port(), get("/echo/a", null));
                assertThat(none.status()).isEqualTo(401);
                assertThat(none.header("www-authenticate")).isEqualTo("Basic realm=\"Staff only\", charset=\"UTF-8\"");
                assertThat(RawHttp.exchange(server.port(), get("/echo/a", basic("alice", "sesame"))).status()).isEqualTo(401);
                assertThat(RawHttp.exchange(server.port(), get("/echo/a", basic("mallory", PASSWORD))).status()).isEqualTo(401);
                assertThat(RawHttp.exchange(server.port(), get("/echo/a", "Basic !!!not base64")).status()).isEqualTo(401);
                assertThat(RawHttp.exchange(server.port(), get("/echo/a", "Bearer abc")).status()).isEqualTo(401);
                assertThat(app.requests.get()).as("nothing reached the app").isZero();

                try (RawHttp http = new RawHttp(server.port())) {
                    for (int i = 0; i < 3; i++) {
                        http.send(get("/echo/alice-" + i, basic("alice", PASSWORD)));
                        RawHttp.Response ok = http.read();
                        assertThat(ok.status()).as("alice, request %d (checked once, then remembered)", i + 1).isEqualTo(200);
                        assertThat(ok.text()).startsWith("GET /echo/alice-" + i + "\n").contains("authorization: Basic ");
                    }
                    http.send(get("/echo/bob", basic("bob", PASSWORD)));
                    assertThat(http.read().status()).isEqualTo(200);
                }

                // Alice is taken out of the file: within a second or so she no longer gets through.
                Files.writeString(users, "bob:$apr1$n8KZJilY$Aq01zSQZ2Bt8RLdZuov9F/\n");
                Files.setLastModifiedTime(users, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
                Thread.sleep(1_100);
                assertThat(RawHttp.exchange(server.port(), get("/echo/again", basic("alice", PASSWORD))).status()).isEqualTo(401);
                assertThat(RawHttp.exchange(server.port(), get("/echo/again", basic("bob", PASSWORD))).status()).isEqualTo(200);
            } finally {
                server.close();
            }
            String log = Files.readString(dir.resolve("log/access.log"));
            assertThat(log).contains(" - alice [").contains("\"GET /echo/alice-0 HTTP/1.1\" 200 ")
                    .contains(" - mallory [").contains(" - - [");
        }
    }

    @Test
    void overHttp2ThePasswordIsCheckedOffTheLoopAndTheStreamAnswered() throws Exception {
        Files.writeString(dir.resolve("htpasswd"), ALICE + "\n");
        try (TestUpstream app = new TestUpstream("app-1", 0)) {
            String yaml = """
                    site:
                      domain: localdomain
                      www: localhost
                    web:
                      listen: 127.0.0.1:0
                      admin: 127.0.0.1:0
                      access-log: off
                      upstreams: [127.0.0.1:%d]
                      tls:
                        listen: 127.0.0.1:0
                      locations:
                        - path: /echo/
                          proxy: app
                          auth-basic: Staff only
                          auth-basic-user-file: htpasswd
                    """.formatted(app.address().port());
            dev.webstack.common.config.StackConfig stack = StackConfig.parse(dir.resolve("webstack.yml"), yaml);
            WebServer server = WebServer.start(stack.web(), stack.site());
            try (java.net.http.HttpClient h2 = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2)
                    .sslContext(TrustingContext.of(stack.web().tls().orElseThrow().certificate())).build()) {
                java.net.URI uri = java.net.URI.create("https://localhost:" + server.tlsPort() + "/echo/h2");
                java.net.http.HttpResponse<String> denied = h2.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(denied.statusCode()).isEqualTo(401);
                assertThat(denied.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
                for (int i = 0; i < 2; i++) {
                    java.net.http.HttpResponse<String> ok = h2.send(java.net.http.HttpRequest.newBuilder(uri)
                            .header("Authorization", basic("alice", PASSWORD)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertThat(ok.statusCode()).as("request %d: checked, then remembered", i + 1).isEqualTo(200);
                    assertThat(ok.body()).startsWith("GET /echo/h2\n");
                }
            } finally {
                server.close();
            }
        }
    }
}
