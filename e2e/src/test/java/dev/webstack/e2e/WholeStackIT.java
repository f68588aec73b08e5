package dev.webstack.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * The whole stack, for real: {@code webstack up -d} starts db (embedded MariaDB), app-1, web and dns
 * as separate processes on free loopback ports; the test then behaves like a visitor: it resolves
 * www.foobar.com through the stack's DNS, talks HTTP to the address it got, publishes posts, and
 * breaks things on purpose.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WholeStackIT {
    static {
        // The Host header is what makes this a request for www.foobar.com.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private static final String WWW = "www.foobar.com";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path home;
    private Path config;
    private int dnsPort;
    private int webPort;
    private int appPort;
    private int dbPort;
    private int adminPort;
    private InetAddress webAddress;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private final List<Long> publishedIds = new ArrayList<>();

    @BeforeAll
    void startTheStack() throws Exception {
        home = StackProcess.newHome("stack");
        dnsPort = StackProcess.freePort();
        webPort = StackProcess.freePort();
        appPort = StackProcess.freePortRange(3);
        dbPort = StackProcess.freePort();
        adminPort = StackProcess.freePort();
        config = home.resolve("webstack.yml");
        Files.writeString(config, """
                dns:
                  listen: 127.0.0.1:%d
                web:
                  listen: 127.0.0.1:%d
                  admin: 127.0.0.1:%d
                  public: public
                  read-timeout: 10s
                app:
                  base-port: %d
                  codebase: %s
                  shutdown-timeout: 5s
                db:
                  listen: 127.0.0.1:%d
                """.formatted(dnsPort, webPort, adminPort, appPort, StackProcess.REPO.resolve("site/target/foobar-site"), dbPort));

        StackProcess.Run up = StackProcess.webstack(config, 300, "up", "-d");
        assertThat(up.exitCode()).as("webstack up -d:\n%s", up.output()).isZero();
        assertThat(up.output()).contains("db ", "app-1", "web ", "dns ", "is up");
    }

    @AfterAll
    void stopTheStack() throws Exception {
        if (config != null) {
            StackProcess.Run down = StackProcess.webstack(config, 180, "down");
            assertThat(down.exitCode()).as(down.output()).isZero();
        }
    }

    @Test
    @Order(1)
    void dnsAnswersWwwOverUdpAndTcp() throws Exception {
        for (boolean tcp : new boolean[] {false, true}) {
            Message answer = query(WWW, Type.A, tcp);

            assertThat(answer.getRcode()).as("rcode over %s", tcp ? "TCP" : "UDP").isEqualTo(Rcode.NOERROR);
            assertThat(answer.getHeader().getFlag(Flags.AA)).as("AA").isTrue();
            assertThat(answer.getHeader().getFlag(Flags.RA)).as("RA").isFalse();
            List<Record> records = answer.getSection(Section.ANSWER);
            assertThat(records).anySatisfy(r -> {
                assertThat(r).isInstanceOf(CNAMERecord.class);
                assertThat(((CNAMERecord) r).getTarget()).isEqualTo(Name.fromString("foobar.com."));
            });
            assertThat(records).anySatisfy(r -> {
                assertThat(r).isInstanceOf(ARecord.class);
                assertThat(((ARecord) r).getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            });
            webAddress = records.stream().filter(ARecord.class::isInstance).map(r -> ((ARecord) r).getAddress()).findFirst().orElseThrow();
        }
        assertThat(query("nothing-here.foobar.com", Type.A, false).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    }

    @Test
    @Order(2)
    void homePageShowsRowsFromTheDatabase() throws Exception {
        String newestTitle;
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + dbPort + "/foobar", "foobar",
                        Files.readString(home.resolve("var/secrets/db-foobar.password")).trim());
                ResultSet rs = c.createStatement().executeQuery("SELECT title FROM posts ORDER BY created_at DESC, id DESC LIMIT 1")) {
            assertThat(rs.next()).as("the site's seed rows are in MariaDB").isTrue();
            newestTitle = rs.getString(1);
        }

        HttpResponse<String> home = get("/");

        assertThat(home.statusCode()).isEqualTo(200);
        assertThat(home.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(home.body()).contains(htmlEscape(newestTitle)).contains("/static/css/site.css");
        assertThat(home.headers().firstValue("x-app-server")).as("proxied to the app tier").hasValue("app-1");
    }

    @Test
    @Order(3)
    void staticFilesComeFromTheWebTiersDisk() throws Exception {
        String name = "e2e-" + UUID.randomUUID() + ".txt";
        String content = "written by the test at " + System.nanoTime() + "\n";
        Files.writeString(home.resolve("public/static/" + name), content);

        HttpResponse<String> file = get("/static/" + name);

        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo(content);
        assertThat(file.headers().firstValue("x-app-server")).as("served by the web tier, not an app server").isEmpty();
        assertThat(file.headers().firstValue("etag")).isPresent();
        HttpResponse<String> css = get("/static/css/site.css");
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/css"));
    }

    @Test
    @Order(4)
    void apexRedirectsToWww() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/posts/new?x=1")).header("Host", "foobar.com").GET());

        assertThat(r.statusCode()).isEqualTo(301);
        assertThat(r.headers().firstValue("location")).hasValue("http://www.foobar.com/posts/new?x=1");
    }

    @Test
    @Order(5)
    void publishesThroughTheFormWithItsCsrfToken() throws Exception {
        HttpResponse<String> form = get("/posts/new");
        assertThat(form.statusCode()).isEqualTo(200);
        String cookie = form.headers().allValues("set-cookie").stream()
                .map(c -> c.split(";", 2)[0]).filter(c -> c.startsWith("csrf=")).findFirst().orElseThrow();
        Matcher field = Pattern.compile("name=\"(_?csrf)\"\\s+value=\"([^\"]+)\"").matcher(form.body());
        assertThat(field.find()).as("a CSRF field in the form:\n%s", form.body()).isTrue();
        String title = "Posted through the form " + UUID.randomUUID();
        String body = field.group(1) + "=" + enc(field.group(2)) + "&title=" + enc(title) + "&author=" + enc("e2e")
                + "&body=" + enc("A post written by the end-to-end test.");

        HttpResponse<String> withoutToken = send(HttpRequest.newBuilder(uri("/posts")).header("Host", WWW)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.replaceFirst("csrf=[^&]+", "csrf=forged"))));
        assertThat(withoutToken.statusCode()).isEqualTo(403);

        HttpResponse<String> posted = send(HttpRequest.newBuilder(uri("/posts")).header("Host", WWW)
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", cookie)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(posted.statusCode()).isEqualTo(303);
        String location = posted.headers().firstValue("location").orElseThrow();
        assertThat(location).matches(".*/posts/\\d+");
        publishedIds.add(Long.parseLong(location.substring(location.lastIndexOf('/') + 1)));

        HttpResponse<String> page = get(URI.create(location).getPath());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(title);
    }

    @Test
    @Order(6)
    void publishesThroughTheJsonApi() throws Exception {
        String title = "Posted through the API " + UUID.randomUUID();
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/api/posts")).header("Host", WWW)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                        java.util.Map.of("title", title, "body", "Hello from the API.", "author", "e2e")))));

        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode post = JSON.readTree(created.body());
        assertThat(post.path("title").asText()).isEqualTo(title);
        long id = post.path("id").asLong();
        assertThat(id).isPositive();
        publishedIds.add(id);

        HttpResponse<String> bad = send(HttpRequest.newBuilder(uri("/api/posts")).header("Host", WWW)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"title\": ")));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).path("error").asText()).isNotBlank();

        HttpResponse<String> list = get("/api/posts");
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).contains(title);
    }

    @Test
    @Order(7)
    void statusReportsEveryComponentHealthy() throws Exception {
        JsonNode status = status();

        assertThat(status).hasSize(4);
        assertThat(status.findValuesAsText("name")).containsExactly("db", "app-1", "web", "dns");
        for (JsonNode c : status) {
            assertThat(c.path("healthy").asBoolean()).as("%s healthy: %s", c.path("name"), c).isTrue();
            assertThat(c.path("pid").asLong()).as("%s pid", c.path("name")).isPositive();
        }
    }

    @Test
    @Order(8)
    void killedAppServerMeans502ThenTheSupervisorBringsItBack() throws Exception {
        long appPid = pidOf(status(), "app-1");
        killAndWait(appPid);

        HttpResponse<String> during = get("/");
        assertThat(during.statusCode()).as("the one app server is gone: the seed's single point of failure").isEqualTo(502);
        assertThat(during.body()).containsIgnoringCase("bad gateway");

        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        int status = during.statusCode();
        while (status != 200 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            status = get("/").statusCode();
        }
        assertThat(status).as("served again after the supervisor restarted app-1").isEqualTo(200);
        long newPid = pidOf(status(), "app-1");
        assertThat(newPid).isNotEqualTo(appPid);
        assertThat(Files.readString(home.resolve("var/log/supervisor.log"))).contains("app-1 (pid " + appPid + ") killed by SIGKILL");
    }

    @Test
    @Order(9)
    void postsSurviveAFullStopAndStart() throws Exception {
        StackProcess.Run down = StackProcess.webstack(config, 180, "down");
        assertThat(down.exitCode()).as(down.output()).isZero();
        StackProcess.Run statusDown = StackProcess.webstack(config, 60, "status");
        assertThat(statusDown.exitCode()).as(statusDown.output()).isEqualTo(3);

        StackProcess.Run up = StackProcess.webstack(config, 300, "up", "-d");
        assertThat(up.exitCode()).as(up.output()).isZero();

        assertThat(publishedIds).hasSize(2);
        for (long id : publishedIds) {
            HttpResponse<String> post = get("/api/posts/" + id);
            assertThat(post.statusCode()).as("post %d after restart", id).isEqualTo(200);
            assertThat(JSON.readTree(post.body()).path("id").asLong()).isEqualTo(id);
        }
    }

    @Test
    @Order(10)
    void reloadAppliesAChangedZoneAndRejectsABrokenOne() throws Exception {
        Path zone = home.resolve("zones/foobar.com.zone");
        assertThat(query("blog.foobar.com", Type.A, false).getRcode()).isEqualTo(Rcode.NXDOMAIN);

        String added = Files.readString(zone).replace("2026112501", "2026112502") + "blog    IN A    127.0.0.2\n";
        Files.writeString(zone, added);
        StackProcess.Run reload = StackProcess.webstack(config, 60, "reload");
        assertThat(reload.exitCode()).as(reload.output()).isZero();
        assertThat(reload.output()).contains("dns: ", "reloaded");
        Message blog = query("blog.foobar.com", Type.A, false);
        assertThat(blog.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(((ARecord) blog.getSection(Section.ANSWER).get(0)).getAddress().getHostAddress()).isEqualTo("127.0.0.2");

        Files.writeString(zone, added.replace("2026112502", "2026112503") + "broken  IN A    not-an-address\n");
        StackProcess.Run rejected = StackProcess.webstack(config, 60, "reload");
        assertThat(rejected.exitCode()).as(rejected.output()).isNotZero();
        assertThat(rejected.output()).contains("foobar.com.zone:").contains("not-an-address");
        assertThat(query("blog.foobar.com", Type.A, true).getRcode()).as("the running zone stays").isEqualTo(Rcode.NOERROR);
        assertThat(query(WWW, Type.A, false).getRcode()).isEqualTo(Rcode.NOERROR);
        // Leave the zone as it is served, so later reloads find nothing to reject.
        Files.writeString(zone, added);
    }

    @Test
    @Order(10)
    void reloadRejectsABrokenWebConfigWithItsLineAndTheRunningOneStays() throws Exception {
        String good = Files.readString(config);
        Files.writeString(config, good.replace("  read-timeout: 10s\n", "  read-timeout: 10s\n  max-headers: 5\n"));
        try {
            StackProcess.Run rejected = StackProcess.webstack(config, 60, "reload");
            assertThat(rejected.exitCode()).as(rejected.output()).isNotZero();
            int line = (int) good.substring(0, good.indexOf("  read-timeout: 10s")).lines().count() + 2;
            assertThat(rejected.output()).contains("webstack.yml:" + line + ": web.max-headers: 5 is out of range");
            // Thirty header fields: over the rejected limit, under the running one (100).
            HttpRequest.Builder many = HttpRequest.newBuilder(uri("/")).header("Host", WWW).GET();
            for (int i = 0; i < 30; i++) {
                many.header("X-Field-" + i, "v");
            }
            assertThat(send(many).statusCode()).as("the running web config stays").isEqualTo(200);
        } finally {
            Files.writeString(config, good);
        }
        StackProcess.Run reload = StackProcess.webstack(config, 60, "reload");
        assertThat(reload.exitCode()).as(reload.output()).isZero();
    }

    @Test
    @Order(10)
    void reopenAfterTheLogsWereMovedWritesNewFiles() throws Exception {
        Path log = home.resolve("var/log/web-access.log");
        Path rotated = home.resolve("var/log/web-access.log.1");
        Path tierLog = home.resolve("var/log/web.log"); // the web tier's own output, written by the supervisor
        Path tierRotated = home.resolve("var/log/web.log.1");
        Path console = home.resolve("var/log/supervisor.out"); // up -d's supervisor's own output
        Path consoleRotated = home.resolve("var/log/supervisor.out.1");
        assertThat(get("/?before-rotation").statusCode()).isEqualTo(200);
        awaitLine(log, "GET /?before-rotation ");
        Files.move(log, rotated); // what logrotate does before its postrotate command
        Files.move(tierLog, tierRotated);
        Files.move(console, consoleRotated);
        StackProcess.Run reopen = StackProcess.webstack(config, 60, "reopen");
        assertThat(reopen.exitCode()).as(reopen.output()).isZero();
        assertThat(reopen.output()).containsPattern("supervisor: logs: \\d+ reopened").contains("web: reopened the logs");
        assertThat(get("/?after-rotation").statusCode()).isEqualTo(200);
        awaitLine(log, "GET /?after-rotation ");
        assertThat(Files.readString(rotated)).contains("GET /?before-rotation ").doesNotContain("after-rotation");
        // The web tier's line about the reopen went to the new file, none to the moved one.
        awaitLine(tierLog, "web: reopened the logs");
        assertThat(Files.readString(tierRotated)).contains("web: listening").doesNotContain("reopened the logs");
        // So did the supervisor's: its standard output now is the new console file.
        awaitLine(console, "supervisor: logs reopened");
        assertThat(Files.readString(consoleRotated)).contains("ready").doesNotContain("logs reopened");
    }

    /** Waits (the access log is written within a second) until {@code file} has a line containing {@code text}. */
    private static void awaitLine(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!(Files.exists(file) && Files.readString(file).contains(text))) {
            assertThat(System.nanoTime()).as("a line with '%s' in %s", text, file).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    @Test
    @Order(11)
    void deployOnOneAppServerStartsTheNewVersionBesideTheOldWithoutFailures() throws Exception {
        Path war = home.resolve("foobar-site-next.war");
        Files.copy(StackProcess.REPO.resolve("site/target/foobar-site.war"), war);

        StackProcess.Run drill = StackProcess.webstack(config, 240, "drill", "deploy", war.toString(),
                "--clients", "4", "--warmup", "2", "--max", "120");

        assertThat(drill.exitCode()).as(drill.output()).isZero();
        assertThat(drill.output()).containsPattern("requests +\\d+ sent in .*, 0 failed")
                .contains("verdict   PASS");
        HttpResponse<String> after = get("/");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.headers().firstValue("x-codebase")).hasValueSatisfying(v -> assertThat(v).startsWith("foobar-site-next-").endsWith(".war"));
        assertThat(after.headers().firstValue("x-app-server")).as("the new version ran beside the old one").hasValue("app-2");
        assertThat(status().findValuesAsText("name")).containsExactly("db", "app-2", "web", "dns");
    }

    @Test
    @Order(12)
    void scalingOntoATakenPortFailsSayingWhyAndLeavesThePoolAsItWas() throws Exception {
        // After the deploy app-2 serves alone, so scaling to two starts app-1 on the base port.
        try (ServerSocket squatter = new ServerSocket(appPort, 1, InetAddress.getLoopbackAddress())) {
            StackProcess.Run scale = StackProcess.webstack(config, 180, "scale", "app=2");

            assertThat(scale.exitCode()).as(scale.output()).isNotZero();
            assertThat(scale.output()).contains("app-1 did not become ready: its process exited with code 1")
                    .contains("cannot start on 127.0.0.1:" + appPort);
        }
        assertThat(status().findValuesAsText("name")).containsExactly("db", "app-2", "web", "dns");
        assertThat(get("/").statusCode()).isEqualTo(200);
    }

    @Test
    @Order(13)
    void scaledToTwoAppServersAKilledOneCostsNoGet() throws Exception {
        StackProcess.Run scale = StackProcess.webstack(config, 180, "scale", "app=2");
        assertThat(scale.exitCode()).as(scale.output()).isZero();
        StackProcess.Run servers = StackProcess.webstack(config, 60, "servers");
        assertThat(servers.output()).containsPattern("app-1 +\\S+ +up").containsPattern("app-2 +\\S+ +up");

        StackProcess.Run drill = StackProcess.webstack(config, 240, "drill", "kill-app", "--victim", "app-1",
                "--clients", "4", "--warmup", "2", "--max", "60");

        assertThat(drill.output()).contains("GET       0 failed").contains("0 of them missing");
        assertThat(drill.exitCode()).as(drill.output()).isZero();
    }

    @Test
    @Order(14)
    void aSignedInVisitorStaysSignedInWhenTheirAppServerIsKilled() throws Exception {
        HttpResponse<String> form = get("/signup");
        assertThat(form.statusCode()).isEqualTo(200);
        String csrf = cookieValue(form, "csrf");
        String name = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> signedUp = send(HttpRequest.newBuilder(uri("/signup")).header("Host", WWW)
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", "csrf=" + csrf)
                .POST(HttpRequest.BodyPublishers.ofString("csrf=" + enc(csrf) + "&name=" + name + "&password=" + enc("e2e passphrase"))));
        assertThat(signedUp.statusCode()).as(signedUp.body()).isEqualTo(303);
        String session = "sid=" + cookieValue(signedUp, "sid");
        String servedBy = signedUp.headers().firstValue("x-app-server").orElseThrow();

        HttpResponse<String> before = send(HttpRequest.newBuilder(uri("/")).header("Host", WWW).header("Cookie", session).GET());
        assertThat(before.body()).contains("Signed in as <strong>" + name + "</strong>");

        long pid = pidOf(status(), servedBy);
        killAndWait(pid);

        HttpResponse<String> after = send(HttpRequest.newBuilder(uri("/")).header("Host", WWW).header("Cookie", session).GET());
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.headers().firstValue("x-app-server")).as("the other app server").isPresent().get().isNotEqualTo(servedBy);
        assertThat(after.body()).as("sessions kept: they live in the database").contains("Signed in as <strong>" + name + "</strong>");
    }

    @Test
    @Order(15)
    void reloadUnderLoadDropsNothing() throws Exception {
        StackProcess.Run drill = StackProcess.webstack(config, 180, "drill", "reload", "--times", "2",
                "--clients", "4", "--warmup", "1", "--max", "60");

        assertThat(drill.exitCode()).as(drill.output()).isZero();
        assertThat(drill.output()).contains("verdict   PASS");
    }

    @Test
    @Order(16)
    void aReloadMovesTheWebTierAndTheSupervisorRestartsItWhereItMoved() throws Exception {
        int moved = StackProcess.freePort();
        String before = Files.readString(config);
        // First onto the admin API's port: refused, and the tier stays where it runs.
        Files.writeString(config, before.replace("  listen: 127.0.0.1:" + webPort + "\n", "  listen: 127.0.0.1:" + adminPort + "\n"));
        StackProcess.Run taken = StackProcess.webstack(config, 60, "reload");
        assertThat(taken.exitCode()).as(taken.output()).isNotZero();
        assertThat(taken.output()).contains("reload rejected", "cannot listen on 127.0.0.1:" + adminPort + ": the address is in use");
        JsonNode stayed = component(status(), "web");
        assertThat(stayed.path("address").asText()).isEqualTo("127.0.0.1:" + webPort);
        assertThat(stayed.path("healthy").asBoolean()).as("%s", stayed).isTrue();

        Files.writeString(config, before.replace("  listen: 127.0.0.1:" + webPort + "\n", "  listen: 127.0.0.1:" + moved + "\n"));
        StackProcess.Run reload = StackProcess.webstack(config, 60, "reload");
        assertThat(reload.exitCode()).as(reload.output()).isZero();
        assertThat(reload.output()).contains("supervisor: web listens on 127.0.0.1:" + moved + " now (was 127.0.0.1:" + webPort + ")");
        int old = webPort;
        webPort = moved;
        assertThat(get("/").statusCode()).isEqualTo(200);
        // (The client's pooled connections to the old address stay open, as nginx's do after a reload.)
        assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", old).close())
                .as("nothing listens on the old address").isInstanceOf(java.net.ConnectException.class);

        // A web tier that dies is restarted and health-checked where the config file puts it now.
        long webPid = pidOf(status(), "web");
        killAndWait(webPid);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode web = null;
        while (System.nanoTime() < deadline) {
            web = component(status(), "web");
            if (web.path("pid").asLong() != webPid && web.path("state").asText().equals("ready")) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(web.path("state").asText()).as("%s", web).isEqualTo("ready");
        assertThat(web.path("address").asText()).isEqualTo("127.0.0.1:" + moved);
        assertThat(get("/").statusCode()).isEqualTo(200);
        // The restarted tier starts with the config's one app server; the supervisor puts back the two that run.
        String pool = "";
        for (long until = System.nanoTime() + Duration.ofSeconds(30).toNanos(); System.nanoTime() < until; Thread.sleep(200)) {
            pool = StackProcess.webstack(config, 60, "servers").output();
            if (pool.matches("(?s).*app-1 +\\S+ +up.*") && pool.matches("(?s).*app-2 +\\S+ +up.*")) {
                break;
            }
        }
        assertThat(pool).containsPattern("app-1 +\\S+ +up").containsPattern("app-2 +\\S+ +up");

        // The admin API moves too, and the supervisor reaches it there: scaling down drains through it.
        // A changed app section, in the same reload, is left for the next start, and the output says so.
        int admin = StackProcess.freePort();
        Files.writeString(config, Files.readString(config).replace("  admin: 127.0.0.1:" + adminPort + "\n", "  admin: 127.0.0.1:" + admin + "\n")
                .replace("  shutdown-timeout: 5s\n", "  shutdown-timeout: 6s\n"));
        StackProcess.Run adminMoved = StackProcess.webstack(config, 60, "reload");
        assertThat(adminMoved.exitCode()).as(adminMoved.output()).isZero();
        assertThat(adminMoved.output()).contains("supervisor: web's admin API on 127.0.0.1:" + admin + " now (was 127.0.0.1:" + adminPort + ")",
                "supervisor: app: changed in webstack.yml, not applied by a reload");
        adminPort = admin;
        StackProcess.Run scale = StackProcess.webstack(config, 180, "scale", "app=1");
        assertThat(scale.exitCode()).as(scale.output()).isZero();
        assertThat(status().findValuesAsText("tier")).containsExactly("db", "app", "web", "dns");
        StackProcess.Run servers = StackProcess.webstack(config, 60, "servers");
        assertThat(servers.exitCode()).as(servers.output()).isZero();
        assertThat(servers.output()).containsPattern("app-\\d +\\S+ +up").doesNotContain("draining");
        assertThat(get("/").statusCode()).isEqualTo(200);
    }

    /** The value the response sets for cookie {@code name}. */
    private static String cookieValue(HttpResponse<String> response, String name) {
        return response.headers().allValues("set-cookie").stream()
                .filter(c -> c.startsWith(name + "="))
                .map(c -> c.substring(name.length() + 1, c.indexOf(';')))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " cookie in " + response.headers().map()));
    }

    private JsonNode status() throws Exception {
        StackProcess.Run run = StackProcess.webstack(config, 60, "status", "--json");
        return JSON.readTree(run.output().substring(run.output().indexOf('[')));
    }

    private static long pidOf(JsonNode status, String name) {
        return component(status, name).path("pid").asLong();
    }

    private static JsonNode component(JsonNode status, String name) {
        for (JsonNode c : status) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no component " + name + " in " + status);
    }

    private Message query(String name, int type, boolean tcp) throws IOException {
        SimpleResolver resolver = new SimpleResolver(InetAddress.getLoopbackAddress());
        resolver.setPort(dnsPort);
        resolver.setTCP(tcp);
        resolver.setTimeout(Duration.ofSeconds(3));
        return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name + "."), type, DClass.IN)));
    }

    /** kill -9, then waits for the process to be gone: one handle for both (looked up again, a process gone has none). */
    private static void killAndWait(long pid) throws Exception {
        ProcessHandle victim = ProcessHandle.of(pid).orElseThrow();
        victim.destroyForcibly();
        victim.onExit().get();
    }

    private URI uri(String path) {
        String host = webAddress == null ? "127.0.0.1" : webAddress.getHostAddress();
        return URI.create("http://" + host + ":" + webPort + path);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Host", WWW).GET());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String htmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
