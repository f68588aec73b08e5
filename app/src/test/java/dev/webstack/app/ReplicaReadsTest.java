package dev.webstack.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.db.DbServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads on the replica, for real: a primary and its GTID replica started as the db tier starts
 * them ({@link DbServer}), an {@link AppServer} deploying the built site with {@code db.replicas: 1},
 * and a {@link ReadRouting} of the test's own, whose connections say which server they reach
 * ({@code @@port}). In order: reads go to the replica; the replica stops and reads go to the
 * primary within a check or two; it comes back and so do the reads; the primary is lost and the
 * replica promoted, and the app server reads and writes on it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ReplicaReadsTest {
    static final Duration SWITCH_WITHIN = ReadRouting.CHECK_EVERY.multipliedBy(5);

    @TempDir
    static Path dir;

    private DbConfig db;
    private DbServer primary;
    private DbServer replica;
    private AppServer server;
    private URI base;
    private HikariDataSource primaryPool;
    private HikariDataSource replicaPool;
    private ReadRouting routing;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeAll
    void start() throws Exception {
        db = new DbConfig(DbConfig.Mode.EMBEDDED, new HostPort("127.0.0.1", freePortPair()), "foobar", "foobar",
                dir.resolve("var/db"), Optional.empty(), Optional.empty(), dir.resolve("var/secrets/db-foobar.password"), 1);
        primary = DbServer.start(db);
        replica = DbServer.startReplica(db, 1);
        AppConfig app = new AppConfig(1, "127.0.0.1", 1, AppServerTest.CODEBASE, "/", 4, Duration.ofSeconds(5), Duration.ofSeconds(2));
        server = AppServer.start(app, db, new AppConfig.Instance("app-replica-test", new HostPort("127.0.0.1", 0)));
        base = URI.create("http://127.0.0.1:" + server.address().port());
        primaryPool = Pool.create(app, db, "test");
        replicaPool = Pool.createReplica(app, db, "test");
        routing = ReadRouting.start("test", replicaPool, primaryPool, db, app.replicaMaxLag());
        await(() -> get("/-/ready").statusCode() == 200, Duration.ofSeconds(60));
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {routing, replicaPool, primaryPool, server, replica, primary}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the others
            }
        }
    }

    @Test
    @Order(1)
    void readsGoToTheReplicaWhileItKeepsUp() throws Exception {
        await(() -> routing.route().toReplica(), SWITCH_WITHIN);
        assertThat(portOfARead()).isEqualTo(db.replica(1).listen().port());
        assertThat(routing.describe()).isEqualTo("replica " + db.replica(1).listen() + " (0 s behind)");
        await(() -> get("/-/ready").body().contains("reads: replica " + db.replica(1).listen()), SWITCH_WITHIN);

        // The site works on the pair: a write on the primary, the page after it read from the primary (rw cookie).
        HttpResponse<String> created = send(HttpRequest.newBuilder(base.resolve("/api/posts")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"title\":\"Read back\",\"body\":\"b\",\"author\":\"IT\"}")));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String location = created.headers().firstValue("Location").orElseThrow();
        assertThat(get(location).statusCode()).as("found at once, the replica or else the primary").isEqualTo(200);
        await(() -> get("/").body().contains("Read back"), SWITCH_WITHIN);
    }

    @Test
    @Order(2)
    void aStoppedReplicaSendsReadsToThePrimary_andBackOnceItReturns() throws Exception {
        replica.close();
        replica = null;
        await(() -> !routing.route().toReplica(), SWITCH_WITHIN);
        assertThat(portOfARead()).isEqualTo(db.listen().port());
        assertThat(routing.describe()).startsWith("primary (replica " + db.replica(1).listen() + " not answering");
        // The app server's own routing checks every second too, not in step with the test's.
        await(() -> get("/-/ready").body().contains("reads: primary"), SWITCH_WITHIN);
        assertThat(get("/-/ready").statusCode()).as("a lost replica does not make the app server unready").isEqualTo(200);
        assertThat(get("/").statusCode()).isEqualTo(200);

        replica = DbServer.startReplica(db, 1);
        await(() -> routing.route().toReplica(), SWITCH_WITHIN);
        assertThat(portOfARead()).isEqualTo(db.replica(1).listen().port());
    }

    @Test
    @Order(3)
    void afterAPromotionTheAppServerReadsAndWritesOnTheFormerReplica() throws Exception {
        primary.close();
        primary = null;
        DbServer.Promotion promotion = DbServer.promote(db, 1);
        assertThat(promotion.wasReplica()).isTrue();

        await(() -> routing.route().reason().contains("promoted"), SWITCH_WITHIN);
        assertThat(portOfARead()).isEqualTo(db.replica(1).listen().port());
        HttpResponse<String> created = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline && (created == null || created.statusCode() != 201)) {
            // Connections to the lost primary fail once each, then the pool opens them on the new one.
            created = send(HttpRequest.newBuilder(base.resolve("/api/posts")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"title\":\"After the promotion\",\"body\":\"b\",\"author\":\"IT\"}")));
        }
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(get("/").body()).contains("After the promotion", "Read back");
    }

    private int portOfARead() throws SQLException {
        try (Connection c = routing.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@port")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private HttpResponse<String> get(String path) {
        try {
            return send(HttpRequest.newBuilder(base.resolve(path)).GET());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void await(BooleanSupplier condition, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition still false after %s", within).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** A free port whose successor is free too: replica 1 listens on the primary's port + 1. */
    private static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket first = new ServerSocket()) {
                first.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = first.getLocalPort();
                try (ServerSocket second = new ServerSocket()) {
                    second.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port + 1));
                    return port;
                } catch (IOException taken) {
                    // try another pair
                }
            }
        }
        throw new IOException("no free pair of adjacent loopback ports");
    }
}
