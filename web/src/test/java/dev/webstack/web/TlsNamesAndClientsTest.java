package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS for more than one name ({@code web.tls.sni}: the certificate chosen by the name the client
 * sends in its handshake) and client certificates ({@code web.tls.verify-client}): real handshakes
 * with the JDK's TLS client against the tier's BoringSSL, checking which certificate was served,
 * which clients get through, and what the app server is told.
 */
class TlsNamesAndClientsTest {
    private static final SiteConfig LOCALHOST = new SiteConfig("localdomain", "localhost");
    @TempDir
    Path dir;
    private TestUpstream app;
    private WebServer server;
    private Path siteCert;
    private Path shopCert;
    private Path shopKey;

    @BeforeEach
    void start() throws IOException {
        app = new TestUpstream("app-1", 100);
        Files.createDirectories(dir.resolve("public/static"));
        Files.writeString(dir.resolve("public/static/small.txt"), "small over tls\n");
        siteCert = dir.resolve("var/tls/web.crt");
        shopCert = dir.resolve("shop/fullchain.pem");
        shopKey = dir.resolve("shop/privkey.pem");
        SelfSignedCertificate.ensure(shopCert, shopKey, List.of("shop.example.com", "*.blog.example.com"));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        app.close();
    }

    private WebConfig.Tls selfSigned() {
        return new WebConfig.Tls(new HostPort("127.0.0.1", 0), siteCert, dir.resolve("var/tls/web.key"), true);
    }

    private WebConfig.Tls withShop() {
        return selfSigned().withSni(List.of(new WebConfig.SniCertificate(List.of("shop.example.com", "*.blog.example.com"), shopCert, shopKey)));
    }

    private WebConfig config(WebConfig.Tls tls) {
        return TestConfigs.web(dir.resolve("public"), dir.resolve("log/access.log"), List.of(app.address()), Duration.ofSeconds(5))
                .withTls(Optional.of(tls));
    }

    /** The certificate the tier serves to a client that names {@code sniName} (none when null), trusting any of ours. */
    private X509Certificate served(String sniName) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("site", read(siteCert));
        trusted.setCertificateEntry("shop", read(shopCert));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket tls = handshake(context, sniName)) {
            try (RawHttp https = new RawHttp(tls)) {
                https.send(RawHttp.get("/static/small.txt", TestConfigs.WWW));
                assertThat(https.read().text()).as("the same site whatever the name in the handshake").isEqualTo("small over tls\n");
            }
            return (X509Certificate) tls.getSession().getPeerCertificates()[0];
        }
    }

    private SSLSocket handshake(SSLContext context, String sniName) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", server.tlsPort()), 5_000);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", server.tlsPort(), true);
        SSLParameters params = tls.getSSLParameters();
        params.setServerNames(sniName == null ? List.of() : List.of(new SNIHostName(sniName)));
        tls.setSSLParameters(params);
        tls.setSoTimeout(10_000);
        tls.startHandshake();
        return tls;
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void eachNameGetsItsCertificateAndEveryOtherTheDefault() throws Exception {
        server = WebServer.start(config(withShop()), TestConfigs.SITE);
        X509Certificate site = read(siteCert);
        X509Certificate shop = read(shopCert);

        assertThat(served("shop.example.com")).isEqualTo(shop);
        assertThat(served("SHOP.Example.COM")).as("names compare case-insensitively").isEqualTo(shop);
        assertThat(served("news.blog.example.com")).as("*.blog.example.com").isEqualTo(shop);
        assertThat(served("a.news.blog.example.com")).as("a wildcard covers one label only").isEqualTo(site);
        assertThat(served("blog.example.com")).as("nor the domain itself").isEqualTo(site);
        assertThat(served(TestConfigs.WWW)).isEqualTo(site);
        assertThat(served(null)).as("a client that names no host").isEqualTo(site);
    }

    @Test
    void aReloadAddsSniCertificatesAndABadOneChangesNothing() throws Exception {
        server = WebServer.start(config(selfSigned()), TestConfigs.SITE);
        X509Certificate site = read(siteCert);
        assertThat(served("shop.example.com")).isEqualTo(site);

        server.reload(config(withShop()), TestConfigs.SITE);
        assertThat(served("shop.example.com")).isEqualTo(read(shopCert));

        Path badKey = Files.writeString(dir.resolve("shop/bad.pem"), "not a key\n", StandardCharsets.US_ASCII);
        WebConfig bad = config(selfSigned().withSni(List.of(new WebConfig.SniCertificate(List.of("shop.example.com"), shopCert, badKey))));
        assertThatThrownBy(() -> server.reload(bad, TestConfigs.SITE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(badKey.toString());
        assertThat(served("shop.example.com")).as("the running config stays").isEqualTo(read(shopCert));
        assertThat(served(TestConfigs.WWW)).isEqualTo(site);
    }

    @Test
    void requiredClientCertificatesLetInOnlyTheAuthoritysClients() throws Exception {
        TestCertificates clients = new TestCertificates("Foobar clients");
        TestCertificates stranger = new TestCertificates("Someone else");
        Path ca = clients.writeCertificate(dir.resolve("clients/ca.pem"));
        server = WebServer.start(config(selfSigned().withClientCertificates(WebConfig.VerifyClient.REQUIRED, ca)), TestConfigs.SITE);

        TestCertificates.Issued alice = clients.issueClient("O=Foobar,CN=alice");
        String echo = exchange(TestCertificates.clientContext(alice, siteCert),
                "GET /echo/a HTTP/1.1\r\nHost: www.foobar.com\r\nX-SSL-Client-S-DN: CN=admin\r\nX-SSL-Client-Verify: SUCCESS\r\n\r\n");
        assertThat(echo).contains("x-ssl-client-verify: SUCCESS\n").contains("x-ssl-client-s-dn: CN=alice,O=Foobar\n")
                .as("the client's own headers are replaced, not passed on").doesNotContain("CN=admin");

        assertThatThrownBy(() -> exchange(TestCertificates.clientContext(null, siteCert), RawHttp.get("/echo/b", TestConfigs.WWW)))
                .as("no certificate").isInstanceOf(IOException.class);
        assertThatThrownBy(() -> exchange(TestCertificates.clientContext(stranger.issueClient("CN=mallory"), siteCert),
                RawHttp.get("/echo/c", TestConfigs.WWW)))
                .as("a certificate another authority signed").isInstanceOf(IOException.class);
        assertThat(app.requests.get()).as("only alice's request reached the app").isEqualTo(1);
    }

    @Test
    void optionalClientCertificatesTellTheAppWhoCameOverHttp1AndHttp2() throws Exception {
        TestCertificates clients = new TestCertificates("Foobar clients");
        Path ca = clients.writeCertificate(dir.resolve("clients/ca.pem"));
        // The site is localhost here: the JDK's HTTP/2 client names the host it connects to, and cannot be told otherwise.
        server = WebServer.start(config(selfSigned().withClientCertificates(WebConfig.VerifyClient.OPTIONAL, ca)), LOCALHOST);

        String anonymous = exchange(TestCertificates.clientContext(null, siteCert),
                "GET /echo/a HTTP/1.1\r\nHost: localhost\r\nX-SSL-Client-S-DN: CN=admin\r\n\r\n");
        assertThat(anonymous).contains("x-ssl-client-verify: NONE\n").doesNotContain("x-ssl-client-s-dn");

        TestCertificates.Issued bob = clients.issueClient("O=Foobar,CN=Bøb Ünicode");
        String named = exchange(TestCertificates.clientContext(bob, siteCert), RawHttp.get("/echo/b", "localhost"));
        assertThat(named).contains("x-ssl-client-verify: SUCCESS\n")
                .as("UTF-8 bytes escaped as RFC 4514 allows").contains("x-ssl-client-s-dn: CN=B\\c3\\b8b \\c3\\9cnicode,O=Foobar\n");

        try (HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .sslContext(TestCertificates.clientContext(clients.issueClient("CN=carol"), siteCert)).build()) {
            HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.tlsPort() + "/echo/c"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.body()).contains("x-ssl-client-verify: SUCCESS\n").contains("x-ssl-client-s-dn: CN=carol\n");
        }

        RawHttp.Response plain = RawHttp.exchange(server.port(),
                "GET /echo/d HTTP/1.1\r\nHost: localhost\r\nX-SSL-Client-Verify: SUCCESS\r\nX-SSL-Client-S-DN: CN=admin\r\n\r\n");
        assertThat(plain.text()).as("plain HTTP cannot claim a certificate").doesNotContain("x-ssl-client");
    }

    /** One request over a TLS connection made with {@code context}; the answer's body. */
    private String exchange(SSLContext context, String request) throws IOException {
        try (RawHttp https = new RawHttp(handshake(context, TestConfigs.WWW))) {
            https.send(request);
            RawHttp.Response answer = https.read();
            assertThat(answer.status()).isEqualTo(200);
            return answer.text();
        }
    }
}
