package dev.webstack.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The app server's front handler in memory, with raw HTTP over a {@link LocalConnector}. */
class FrontHandlerTest {
    final Server server = new Server();
    final LocalConnector connector = new LocalConnector(server);
    final HikariDataSource neverUsed = new HikariDataSource();

    final Handler webapp = new Handler.Abstract() {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            response.write(true, StandardCharsets.UTF_8.encode("from the webapp"), callback);
            return true;
        }
    };

    @AfterEach
    void stop() throws Exception {
        server.stop();
    }

    void start(Deployment.State state) throws Exception {
        server.addConnector(connector);
        server.setHandler(new FrontHandler("app-7", "foobar-site-2.war", () -> state, new DbProbe(neverUsed), () -> "primary (no replica)", webapp));
        server.start();
    }

    String get(String path) throws Exception {
        return connector.getResponse("GET " + path + " HTTP/1.1\r\nHost: www.foobar.com\r\nConnection: close\r\n\r\n");
    }

    @Test
    void liveWhileTheWebappIsNotDeployed() throws Exception {
        start(new Deployment.State(false, "waiting for the database: refused"));
        assertThat(get("/-/live")).startsWith("HTTP/1.1 200").contains("X-App-Server: app-7").contains("X-Codebase: foobar-site-2.war").endsWith("live\n");
    }

    @Test
    void notReadyAndNoPagesWhileTheWebappIsNotDeployed() throws Exception {
        start(new Deployment.State(false, "waiting for the database: refused"));
        assertThat(get("/-/ready")).startsWith("HTTP/1.1 503").contains("X-App-Server: app-7")
                .endsWith("not ready: waiting for the database: refused\n");
        assertThat(get("/")).startsWith("HTTP/1.1 503").doesNotContain("from the webapp");
    }

    @Test
    void everythingElseGoesToTheWebappWithTheHeader() throws Exception {
        start(new Deployment.State(true, "deployed"));
        assertThat(get("/posts/1")).startsWith("HTTP/1.1 200").contains("X-App-Server: app-7").endsWith("from the webapp");
    }
}
