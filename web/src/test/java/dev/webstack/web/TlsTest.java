package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.math.BigInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS ({@code web.tls}): a real TLS handshake against the tier's self-signed certificate,
 * verified as a browser would (the certificate trusted, the host name checked), then the same
 * site as over HTTP.
 */
class TlsTest {
    @TempDir
    Path dir;
    private TestUpstream app;
    private WebServer server;
    private byte[] large;

    @BeforeEach
    void start() throws IOException {
        app = new TestUpstream("app-1", 100);
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/small.txt"), "small over tls\n");
        // Above the in-memory limit: sent from the file in chunks (no sendfile under TLS).
        large = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(large);
        Files.write(dir.resolve("public/static/large.bin"), large);
        server = WebServer.start(config(selfSigned()), TestConfigs.SITE);
    }

    @AfterEach
    void stop() {
        server.close();
        app.close();
    }

    private WebConfig.Tls selfSigned() {
        return new WebConfig.Tls(new HostPort("127.0.0.1", 0), dir.resolve("var/tls/web.crt"), dir.resolve("var/tls/web.key"), true);
    }

    private WebConfig config(WebConfig.Tls tls) {
        return TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(app.address()), Duration.ofSeconds(5))
                .withTls(Optional.of(tls));
    }

    /** A TLS connection to the HTTPS port that trusts only {@code certificate} and checks the name {@code host}. */
    private RawHttp connect(String host, Path certificate) throws Exception {
        SSLContext context = TrustingContext.of(certificate);
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", server.tlsPort()), 5_000);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, host, server.tlsPort(), true);
        SSLParameters params = tls.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setServerNames(List.of(new SNIHostName(host)));
        tls.setSSLParameters(params);
        tls.setSoTimeout(10_000);
        tls.startHandshake();
        return new RawHttp(tls);
    }

    private RawHttp connect() throws Exception {
        return connect(TestConfigs.WWW, dir.resolve("var/tls/web.crt"));
    }

    @Test
    void servesStaticFilesOverVerifiedTls() throws Exception {
        try (RawHttp https = connect()) {
            https.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            RawHttp.Response small = https.read();
            assertThat(small.status()).isEqualTo(200);
            assertThat(small.text()).isEqualTo("small over tls\n");

            https.send(RawHttp.get("/static/large.bin", TestConfigs.WWW));
            RawHttp.Response whole = https.read();
            assertThat(whole.status()).isEqualTo(200);
            assertThat(whole.header("content-length")).isEqualTo(String.valueOf(large.length));
            assertThat(Arrays.equals(whole.body(), large)).as("3 MB file, byte for byte").isTrue();

            https.send("GET /static/large.bin HTTP/1.1\r\nHost: www.foobar.com\r\nRange: bytes=1048570-1048589\r\n\r\n");
            RawHttp.Response part = https.read();
            assertThat(part.status()).isEqualTo(206);
            assertThat(part.body()).isEqualTo(Arrays.copyOfRange(large, 1048570, 1048590));
        }
        // The access log counts the body of the file sent in chunks.
        server.close();
        String log = Files.readString(dir.resolve("log/access.log"));
        assertThat(log).contains("\"GET /static/large.bin HTTP/1.1\" 200 " + large.length + " ");
    }

    @Test
    void theCertificateNamesTheSiteAndItsKeyIsTheOwnersOnly() throws Exception {
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(dir.resolve("var/tls/web.crt"))) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        List<String> names = cert.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList();
        assertThat(names).contains("www.foobar.com", "foobar.com", "localhost", "127.0.0.1");
        assertThat(Files.getPosixFilePermissions(dir.resolve("var/tls/web.key")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        try (RawHttp https = connect("localhost", dir.resolve("var/tls/web.crt"))) {
            https.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            assertThat(https.read().status()).isEqualTo(200);
        }
        assertThatThrownBy(() -> connect("evil.example", dir.resolve("var/tls/web.crt")))
                .as("a name the certificate does not carry").isInstanceOf(SSLHandshakeException.class);

        // Kept across a restart: the same certificate, not a new one each start.
        byte[] before = Files.readAllBytes(dir.resolve("var/tls/web.crt"));
        server.close();
        server = WebServer.start(config(selfSigned()), TestConfigs.SITE);
        assertThat(Files.readAllBytes(dir.resolve("var/tls/web.crt"))).isEqualTo(before);
    }

    @Test
    void proxiedRequestsSayHttpsAndTheApexRedirectsToHttps() throws Exception {
        try (RawHttp https = connect()) {
            https.send(RawHttp.get("/echo/x", TestConfigs.WWW));
            RawHttp.Response echo = https.read();
            assertThat(echo.status()).isEqualTo(200);
            assertThat(echo.text()).contains("x-forwarded-proto: https\n");
        }
        RawHttp.Response plain = RawHttp.exchange(server.port(), RawHttp.get("/echo/y", TestConfigs.WWW));
        assertThat(plain.text()).contains("x-forwarded-proto: http\n");

        try (RawHttp https = connect()) {
            https.send(RawHttp.get("/a?b=1", "foobar.com:" + server.tlsPort()));
            RawHttp.Response redirect = https.read();
            assertThat(redirect.status()).isEqualTo(301);
            assertThat(redirect.header("location")).isEqualTo("https://www.foobar.com:" + server.tlsPort() + "/a?b=1");
        }
    }

    @Test
    void plainHttpOnTheHttpsPortIsClosedAndServingGoesOn() throws Exception {
        try (RawHttp wrong = new RawHttp(server.tlsPort())) {
            wrong.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            RawHttp.Response answer = wrong.read();
            assertThat(answer.status()).as("nginx's answer").isEqualTo(400);
            assertThat(answer.text()).isEqualTo("The plain HTTP request was sent to HTTPS port.\r\n");
            assertThat(wrong.closedByServer()).isTrue();
        }
        try (Socket garbage = new Socket("127.0.0.1", server.tlsPort())) {
            garbage.setSoTimeout(10_000);
            byte[] junk = new byte[4096];
            new Random(1).nextBytes(junk);
            junk[0] = 0x16; // a handshake record type, then nonsense
            garbage.getOutputStream().write(junk);
            assertThat(garbage.getInputStream().readAllBytes().length).as("an alert at most, then closed").isLessThan(64);
        }
        try (RawHttp https = connect()) {
            https.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            assertThat(https.read().text()).isEqualTo("small over tls\n");
        }
    }

    @Test
    void aReloadServesARenewedCertificateAndABadOneChangesNothing() throws Exception {
        Path first = dir.resolve("var/tls/web.crt");
        BigInteger serialBefore = serial(first);
        try (RawHttp open = connect()) {
            // A renewed certificate at other paths, configured by name (made the way the tier makes its own).
            Path cert = dir.resolve("renewed/web.crt");
            Path key = dir.resolve("renewed/web.key");
            SelfSignedCertificate.ensure(cert, key, List.of(TestConfigs.WWW, "foobar.com"));
            server.reload(config(new WebConfig.Tls(new HostPort("127.0.0.1", 0), cert, key, false)), TestConfigs.SITE);

            try (RawHttp fresh = connect(TestConfigs.WWW, cert)) {
                fresh.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
                assertThat(fresh.read().status()).isEqualTo(200);
            }
            assertThatThrownBy(() -> connect(TestConfigs.WWW, first)).as("the old certificate is no longer served")
                    .isInstanceOf(SSLHandshakeException.class);
            assertThat(serial(cert)).isNotEqualTo(serialBefore);

            // A key that is not PEM: refused with the files named, the renewed certificate stays.
            Path badKey = dir.resolve("bad.key");
            Files.writeString(badKey, "not a key\n", StandardCharsets.US_ASCII);
            WebConfig bad = config(new WebConfig.Tls(new HostPort("127.0.0.1", 0), cert, badKey, false));
            assertThatThrownBy(() -> server.reload(bad, TestConfigs.SITE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(badKey.toString());
            try (RawHttp still = connect(TestConfigs.WWW, cert)) {
                still.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
                assertThat(still.read().status()).isEqualTo(200);
            }

            // The connection opened before the reloads goes on with its session.
            open.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            assertThat(open.read().text()).isEqualTo("small over tls\n");
        }
    }

    @Test
    void aReloadTurnsHttpsOffAndOnAgainWhileOpenConnectionsGoOn() throws Exception {
        int before = server.tlsPort();
        try (RawHttp open = connect()) {
            server.reload(config(selfSigned()).withTls(Optional.empty()), TestConfigs.SITE);

            assertThat(server.tlsPort()).isEqualTo(-1);
            assertThatThrownBy(() -> new RawHttp(before).close()).as("the HTTPS socket is closed")
                    .isInstanceOf(java.net.ConnectException.class);
            open.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            assertThat(open.read().text()).as("a connection accepted before").isEqualTo("small over tls\n");
            assertThat(RawHttp.exchange(server.port(), RawHttp.get("/static/small.txt", TestConfigs.WWW)).text())
                    .isEqualTo("small over tls\n");
        }

        int moved = TestConfigs.closedPort();
        server.reload(config(new WebConfig.Tls(new HostPort("127.0.0.1", moved), dir.resolve("var/tls/web.crt"),
                dir.resolve("var/tls/web.key"), true)), TestConfigs.SITE);
        assertThat(server.tlsPort()).isEqualTo(moved);
        try (RawHttp https = connect()) {
            https.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            assertThat(https.read().text()).isEqualTo("small over tls\n");
        }
    }

    @Test
    void hstsAndTheRedirectOfPlainHttpWhenConfigured() throws Exception {
        server.close();
        int httpsPort = TestConfigs.closedPort();
        WebConfig.Tls tls = new WebConfig.Tls(new HostPort("127.0.0.1", httpsPort), dir.resolve("var/tls/web.crt"),
                dir.resolve("var/tls/web.key"), true, true, Duration.ofDays(365));
        server = WebServer.start(config(tls), TestConfigs.SITE);
        assertThat(server.tlsPort()).isEqualTo(httpsPort);

        RawHttp.Response plain = RawHttp.exchange(server.port(), RawHttp.get("/static/small.txt?v=2", TestConfigs.WWW));
        assertThat(plain.status()).isEqualTo(301);
        assertThat(plain.header("location")).isEqualTo("https://www.foobar.com:" + httpsPort + "/static/small.txt?v=2");
        assertThat(plain.header("strict-transport-security")).as("only over HTTPS (RFC 6797 section 7.2)").isNull();
        assertThat(RawHttp.exchange(server.port(), RawHttp.get("/-/health", TestConfigs.WWW)).status())
                .as("the supervisor's health check stays on plain HTTP").isEqualTo(200);
        try (RawHttp https = connect()) {
            https.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
            RawHttp.Response secure = https.read();
            assertThat(secure.status()).isEqualTo(200);
            assertThat(secure.header("strict-transport-security")).isEqualTo("max-age=31536000");
            https.send(RawHttp.get("/echo/h", TestConfigs.WWW));
            assertThat(https.read().header("strict-transport-security")).as("proxied answers too").isEqualTo("max-age=31536000");
        }
    }

    private static BigInteger serial(Path certificate) throws Exception {
        try (InputStream in = Files.newInputStream(certificate)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        }
    }
}
