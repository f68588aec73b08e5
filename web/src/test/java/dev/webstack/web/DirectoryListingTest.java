package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.webstack.common.config.StackConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code autoindex} on a root location: a folder without an index file listed as nginx lists it, or 403 without. */
class DirectoryListingTest {
    private static final String CONFIG = """
            web:
              listen: 127.0.0.1:0
              admin: 127.0.0.1:0
              access-log: off
              locations:
                - path: /files/
                  root: pub
                  autoindex: true
                - path: /data/
                  root: pub
                  autoindex: json
                - path: /closed/
                  root: pub
            """;

    @TempDir
    Path dir;
    private WebServer server;

    @BeforeEach
    void start() throws Exception {
        Path pub = dir.resolve("pub");
        for (String folder : new String[] {"files", "data", "closed"}) {
            Path f = Files.createDirectories(pub.resolve(folder));
            Files.createDirectories(f.resolve("sub"));
            Files.writeString(f.resolve("a.txt"), "abc");
            Files.writeString(f.resolve("B.txt"), "0123456789");
            Files.writeString(f.resolve("we<ird> & \"name\".txt"), "x");
            Files.writeString(f.resolve(".hidden"), "secret");
            Files.writeString(f.resolve("l".repeat(60) + ".txt"), "long");
            Files.setLastModifiedTime(f.resolve("a.txt"), FileTime.from(Instant.parse("2026-11-27T09:05:00Z")));
        }
        Path outside = Files.writeString(dir.resolve("outside.txt"), "not served");
        Files.createSymbolicLink(pub.resolve("files/link-out.txt"), outside);
        Files.createSymbolicLink(pub.resolve("files/link-in.txt"), pub.resolve("files/a.txt"));
        server = WebServer.start(StackConfig.parse(dir.resolve("webstack.yml"), CONFIG).web(), TestConfigs.SITE);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawHttp.Response request(String method, String path) throws Exception {
        return RawHttp.exchange(server.port(), method + " " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
    }

    @Test
    void anHtmlListingHasFoldersFirstThenFilesInByteOrderAsNginx() throws Exception {
        RawHttp.Response res = request("GET", "/files/");
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.header("content-type")).isEqualTo("text/html; charset=utf-8");
        String page = res.text();
        assertThat(page).startsWith("<html>\r\n<head><title>Index of /files/</title></head>\r\n<body>\r\n<h1>Index of /files/</h1>"
                + "<hr><pre><a href=\"../\">../</a>\r\n<a href=\"sub/\">sub/</a>");
        assertThat(page).contains("<a href=\"a.txt\">a.txt</a>" + " ".repeat(46) + "27-Nov-2026 09:05" + " ".repeat(19) + "3\r\n");
        assertThat(page.indexOf("\"sub/\"")).isLessThan(page.indexOf("\"B.txt\""));
        assertThat(page.indexOf("\"B.txt\"")).as("byte order: upper case first").isLessThan(page.indexOf("\"a.txt\""));
        assertThat(page).contains("<a href=\"we%3Cird%3E%20%26%20%22name%22.txt\">we&lt;ird&gt; &amp; &quot;name&quot;.txt</a>");
        assertThat(page).contains(">" + "l".repeat(47) + "..&gt;</a>");
        assertThat(page).contains("\"link-in.txt\"").doesNotContain(".hidden").doesNotContain("link-out");
        assertThat(page).endsWith("</pre><hr></body>\r\n</html>\r\n");

        assertThat(request("GET", "/files/link-out.txt").status()).as("what is not listed is not served either").isEqualTo(404);
        assertThat(request("GET", "/files/we%3Cird%3E%20%26%20%22name%22.txt").text()).as("the link works").isEqualTo("x");

        try (RawHttp http = new RawHttp(server.port())) {
            http.send("HEAD /files/ HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
            RawHttp.Response head = http.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo(Integer.toString(page.getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
            http.send("GET /files/a.txt HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
            assertThat(http.read().text()).as("the HEAD answer had no body: the next answer reads right").isEqualTo("abc");
        }
        assertThat(request("GET", "/files/sub/").text()).as("an empty folder").contains("<a href=\"../\">../</a>\r\n</pre>");
    }

    @Test
    void aJsonListingNamesTypeTimeAndSize() throws Exception {
        RawHttp.Response res = request("GET", "/data/");
        assertThat(res.status()).isEqualTo(200);
        assertThat(res.header("content-type")).isEqualTo("application/json");
        JsonNode list = new ObjectMapper().readTree(res.body());
        assertThat(list).hasSize(5);
        assertThat(list.get(0).get("name").asText()).isEqualTo("sub");
        assertThat(list.get(0).get("type").asText()).isEqualTo("directory");
        assertThat(list.get(0).has("size")).isFalse();
        JsonNode a = list.get(2);
        assertThat(a.get("name").asText()).isEqualTo("a.txt");
        assertThat(a.get("type").asText()).isEqualTo("file");
        assertThat(a.get("size").asLong()).isEqualTo(3);
        assertThat(a.get("mtime").asText()).isEqualTo("Fri, 27 Nov 2026 09:05:00 GMT");
        assertThat(list.get(4).get("name").asText()).isEqualTo("we<ird> & \"name\".txt");
    }

    @Test
    void theListingsAreNginxsByteForByte() throws Exception {
        // nginx lists a link out of the root, which webstack neither lists nor serves: not compared.
        Files.delete(dir.resolve("pub/files/link-out.txt"));
        // A name with control characters, a quote, a backslash and DEL: nginx's JSON escapes.
        Files.writeString(dir.resolve("pub/data/a\nb\tc\rd\be\ff\u0001g\"h\\i\u007fj.txt"), "x");
        try (TestNginx nginx = TestNginx.start(dir, """
                server {
                  listen 127.0.0.1:%2$d;
                  root %1$s/pub;
                  location /files/ { autoindex on; }
                  location /data/ { autoindex on; autoindex_format json; }
                }
                """)) {
            for (String path : new String[] {"/files/", "/files/sub/", "/data/"}) {
                RawHttp.Response theirs = RawHttp.exchange(nginx.port(), "GET " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\n\r\n");
                RawHttp.Response ours = request("GET", path);
                assertThat(ours.status()).isEqualTo(theirs.status()).isEqualTo(200);
                assertThat(ours.text()).as(path).isEqualTo(theirs.text());
            }
        }
    }

    @Test
    void withoutAutoindexAFolderIsForbidden() throws Exception {
        assertThat(request("GET", "/closed/").status()).isEqualTo(403);
        assertThat(request("GET", "/closed/sub/").status()).isEqualTo(403);
        assertThat(request("GET", "/closed/a.txt").text()).isEqualTo("abc");
        assertThat(request("GET", "/files/nowhere/").status()).as("no such folder").isEqualTo(404);
    }
}
