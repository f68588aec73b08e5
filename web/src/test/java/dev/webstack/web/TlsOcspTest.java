package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.WebConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCSP stapling ({@code web.tls.ocsp-response}): a CA and its OCSP response made in the test, the
 * staple read by OpenSSL's own client ({@code openssl s_client -status}), and the responses a
 * client would refuse refused at load instead.
 */
class TlsOcspTest {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");

    @TempDir
    Path dir;

    /** What {@code openssl s_client -status} prints of the handshake with the tier's HTTPS port. */
    private static String sClient(int port, String name) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(OPENSSL.toString(), "s_client", "-connect", "127.0.0.1:" + port, "-servername", name, "-status")
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** How {@code openssl s_client} prints the certificate's serial number in the OCSP response: upper-case hex, zero-padded to whole bytes. */
    private static String serial(TestCertificates.Issued issued) {
        return "Serial Number: 0*" + issued.certificate().getSerialNumber().toString(16).toUpperCase() + "\\b";
    }

    @Test
    void theResponseIsStapledToTheDefaultAndAnSniCertificate() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(OPENSSL), "openssl is not installed");
        TestCertificates ca = new TestCertificates("Test CA");
        TestCertificates.Issued site = ca.issueServer("www.foobar.com", "localhost");
        TestCertificates.Issued shop = ca.issueServer("shop.example.com");
        TestCertificates.write(site, ca, dir.resolve("site.pem"), dir.resolve("site.key"));
        TestCertificates.write(shop, ca, dir.resolve("shop.pem"), dir.resolve("shop.key"));
        Date tomorrow = Date.from(Instant.now().plus(Duration.ofDays(1)));
        Path siteOcsp = Files.write(dir.resolve("site.ocsp"), ca.ocspResponse(site, null, tomorrow));
        Path shopOcsp = Files.write(dir.resolve("shop.ocsp"), ca.ocspResponse(shop, null, tomorrow));

        WebConfig.Tls tls = new WebConfig.Tls(new HostPort("127.0.0.1", 0), dir.resolve("site.pem"), dir.resolve("site.key"), false)
                .withOcspResponse(siteOcsp)
                .withSni(List.of(new WebConfig.SniCertificate(List.of("shop.example.com"), dir.resolve("shop.pem"), dir.resolve("shop.key"),
                        Optional.of(shopOcsp))));
        Files.createDirectories(dir.resolve("public"));
        WebServer server = WebServer.start(TestConfigs.web(dir.resolve("public"), dir.resolve("access.log"), List.of(), Duration.ofSeconds(5))
                .withTls(Optional.of(tls)), TestConfigs.SITE);
        try {
            String www = sClient(server.tlsPort(), "www.foobar.com");
            assertThat(www).contains("OCSP Response Status: successful").contains("Cert Status: good")
                    .containsPattern(serial(site));
            String other = sClient(server.tlsPort(), "shop.example.com");
            assertThat(other).contains("OCSP Response Status: successful")
                    .containsPattern(serial(shop));

            // Responses a client would refuse are refused at reload, and the running ones stay.
            Path revoked = Files.write(dir.resolve("revoked.ocsp"), ca.ocspResponse(site, new RevokedStatus(new Date(), 1), tomorrow));
            Path stale = Files.write(dir.resolve("stale.ocsp"), ca.ocspResponse(site, null, Date.from(Instant.now().minus(Duration.ofMinutes(5)))));
            WebConfig base = TestConfigs.web(dir.resolve("public"), dir.resolve("access.log"), List.of(), Duration.ofSeconds(5));
            assertThatThrownBy(() -> server.reload(base.withTls(Optional.of(tls.withOcspResponse(revoked))), TestConfigs.SITE))
                    .hasMessageContaining(revoked.toString()).hasMessageContaining("revoked");
            assertThatThrownBy(() -> server.reload(base.withTls(Optional.of(tls.withOcspResponse(stale))), TestConfigs.SITE))
                    .hasMessageContaining("expired");
            assertThatThrownBy(() -> server.reload(base.withTls(Optional.of(tls.withOcspResponse(shopOcsp))), TestConfigs.SITE))
                    .as("another certificate's response").hasMessageContaining("is not about " + dir.resolve("site.pem"));
            Path junk = Files.writeString(dir.resolve("junk.ocsp"), "not DER");
            assertThatThrownBy(() -> server.reload(base.withTls(Optional.of(tls.withOcspResponse(junk))), TestConfigs.SITE))
                    .hasMessageContaining("not a DER OCSP response");
            assertThat(sClient(server.tlsPort(), "www.foobar.com")).contains("Cert Status: good");
        } finally {
            server.close();
        }
    }
}
