package dev.webstack.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class StackConfigTest {
    private static final Path FILE = Path.of("/srv/stack/webstack.yml");

    @Test
    void emptyFileGivesTheEmbeddedDefaults() {
        StackConfig c = StackConfig.parse(FILE, "");

        assertThat(c.home()).isEqualTo(Path.of("/srv/stack"));
        assertThat(c.varDir()).isEqualTo(Path.of("/srv/stack/var"));
        assertThat(c.site().www()).isEqualTo("www.foobar.com");
        assertThat(c.site().domain()).isEqualTo("foobar.com");
        assertThat(c.dns().listen()).isEqualTo(new HostPort("127.0.0.1", 5353));
        assertThat(c.dns().zones()).containsExactly(new DnsConfig.Zone("foobar.com.", Path.of("/srv/stack/zones/foobar.com.zone")));
        assertThat(c.web().listen().port()).isEqualTo(8080);
        assertThat(c.web().locations()).extracting(LocationConfig::describe).containsExactly(
                "location /static/ -> root /srv/stack/site/public",
                "location = /favicon.ico -> root /srv/stack/site/public",
                "location = /robots.txt -> root /srv/stack/site/public",
                "location / -> proxy app");
        assertThat(c.web().readTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.app().instances()).extracting(AppConfig.Instance::name).containsExactly("app-1");
        assertThat(c.app().instances().get(0).address()).isEqualTo(new HostPort("127.0.0.1", 9001));
        assertThat(c.db().mode()).isEqualTo(DbConfig.Mode.EMBEDDED);
        assertThat(c.db().jdbcUrl()).isEqualTo("jdbc:mariadb://127.0.0.1:3307/foobar");
        assertThat(c.db().passwordFile()).isEqualTo(Path.of("/srv/stack/var/secrets/db-foobar.password"));
    }

    @Test
    void theAccessLogIsAFileUnderVarByDefault_andCanBeTurnedOff() {
        assertThat(StackConfig.parse(FILE, "").web().accessLog()).hasValue(Path.of("/srv/stack/var/log/web-access.log"));
        assertThat(StackConfig.parse(FILE, "web:\n  access-log: logs/a.log\n").web().accessLog())
                .hasValue(Path.of("/srv/stack/logs/a.log"));
        assertThat(StackConfig.parse(FILE, "web:\n  access-log: off\n").web().accessLog()).isEmpty();
    }

    @Test
    void theShippedFileParsesAndAgreesWithTheDefaults() throws Exception {
        Path shipped = Path.of("../webstack.yml").toAbsolutePath().normalize();
        StackConfig fromFile = StackConfig.load(shipped);
        StackConfig defaults = StackConfig.parse(shipped, "");

        // dns.metrics is what the shipped file adds there: absent, it is off (as NSD counts nothing for
        // anyone unless told), so that stacks a test or a user writes from scratch claim no port for it.
        DnsConfig d = fromFile.dns();
        assertThat(new DnsConfig(d.listen(), d.zones(), d.udpPayload(), d.rateLimit(), d.transferTo(), d.notifyTargets(),
                d.healthChecks(), d.tsig())).isEqualTo(defaults.dns());
        assertThat(d.metrics()).contains(new HostPort("127.0.0.1", 9153));
        assertThat(defaults.dns().metrics()).isEmpty();
        // HTTPS and the site's error pages are what the shipped file adds: absent, web.tls is off (as nginx serves
        // no TLS unless told) and the web tier answers its errors with its own pages.
        assertThat(fromFile.web().withTls(java.util.Optional.empty()).withErrorPages(java.util.Map.of())).isEqualTo(defaults.web());
        assertThat(fromFile.web().errorPages()).containsOnly(java.util.Map.entry(404, "/errors/404.html"),
                java.util.Map.entry(502, "/errors/50x.html"), java.util.Map.entry(503, "/errors/50x.html"),
                java.util.Map.entry(504, "/errors/50x.html"));
        assertThat(defaults.web().tls()).isEmpty();
        assertThat(fromFile.web().tls()).hasValue(new WebConfig.Tls(new HostPort("127.0.0.1", 8443),
                shipped.resolveSibling("var/tls/web.crt"), shipped.resolveSibling("var/tls/web.key"), true));
        assertThat(fromFile.app()).isEqualTo(defaults.app());
        assertThat(fromFile.db()).isEqualTo(defaults.db());
        assertThat(Files.readString(shipped)).contains("# ");
    }

    @Test
    void tlsIsReadWithItsDefaultsAndBadValuesNameTheLine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThat(StackConfig.parse(FILE, "web:\n  tls: off\n").web().tls()).isEmpty();
        WebConfig.Tls tls = StackConfig.parse(FILE, "web:\n  listen: 127.0.0.2:80\n  tls: {}\n").web().tls().orElseThrow();
        assertThat(tls).isEqualTo(new WebConfig.Tls(new HostPort("127.0.0.2", 8443),
                Path.of("/srv/stack/var/tls/web.crt"), Path.of("/srv/stack/var/tls/web.key"), true));

        Path cert = Files.writeString(dir.resolve("site.crt"), "x");
        Path key = Files.writeString(dir.resolve("site.key"), "x");
        Path file = dir.resolve("webstack.yml");
        WebConfig.Tls given = StackConfig.parse(file, "web:\n  tls:\n    listen: 127.0.0.1:9443\n    certificate: site.crt\n    key: site.key\n")
                .web().tls().orElseThrow();
        assertThat(given).isEqualTo(new WebConfig.Tls(new HostPort("127.0.0.1", 9443), cert, key, false));
        WebConfig.Tls strict = StackConfig.parse(FILE, "web:\n  tls:\n    redirect-http: true\n    hsts: 180d\n").web().tls().orElseThrow();
        assertThat(strict.redirectHttp()).isTrue();
        assertThat(strict.hsts()).isEqualTo(Duration.ofDays(180));

        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    certificate: site.crt\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("both certificate and key");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    certificate: site.crt\n    key: missing.key\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("missing.key: no such readable file");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  listen: 127.0.0.1:8080\n  tls:\n    listen: 127.0.0.1:8080\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("another port");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    port: 1\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("unknown key");
    }

    @Test
    void dnsMetricsIsAnAddressOrOff(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("webstack.yml");
        assertThat(StackConfig.parse(file, "dns:\n  metrics: 127.0.0.1:9153\n").dns().metrics()).contains(new HostPort("127.0.0.1", 9153));
        assertThat(StackConfig.parse(file, "dns:\n  metrics: off\n").dns().metrics()).isEmpty();
        assertThat(StackConfig.parse(file, "dns:\n  listen: 127.0.0.1:5353\n").dns().metrics()).as("absent: none").isEmpty();
        assertThatThrownBy(() -> StackConfig.parse(file, "dns:\n  metrics: nowhere\n"))
                .hasMessageContaining("webstack.yml:2");
    }

    @Test
    void dnsListensOnOneAddressOrAList() {
        DnsConfig one = StackConfig.parse(FILE, "dns:\n  listen: 192.0.2.53:53\n").dns();
        assertThat(one.addresses()).containsExactly(new HostPort("192.0.2.53", 53));
        assertThat(one.listen()).isEqualTo(new HostPort("192.0.2.53", 53));

        DnsConfig two = StackConfig.parse(FILE, "dns:\n  listen:\n    - 192.0.2.53:53\n    - \"[2001:db8::53]:53\"\n").dns();
        assertThat(two.addresses()).containsExactly(new HostPort("192.0.2.53", 53), new HostPort("2001:db8::53", 53));
        assertThat(two.listen()).as("the first: where the stack's own tools ask").isEqualTo(new HostPort("192.0.2.53", 53));

        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  listen:\n    - 192.0.2.53:53\n    - 192.0.2.53:53\n"))
                .hasMessage("/srv/stack/webstack.yml:4: dns.listen[1]: 192.0.2.53:53 is listed twice");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  listen:\n    - 192.0.2.53:53\n    - 192.0.2.54\n"))
                .hasMessageContaining("/srv/stack/webstack.yml:4:").hasMessageContaining("expected: host:port");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  listen: []\n"))
                .hasMessageContaining("/srv/stack/webstack.yml:2:").hasMessageContaining("an empty list");
    }

    @Test
    void dnsTcpConnectionsAreBounded() {
        assertThat(StackConfig.parse(FILE, "dns:\n  listen: 127.0.0.1:5353\n").dns().tcpConnections()).as("default").isEqualTo(1000);
        assertThat(StackConfig.parse(FILE, "dns:\n  tcp-connections: 50\n").dns().tcpConnections()).isEqualTo(50);
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  tcp-connections: 0\n"))
                .hasMessageContaining("/srv/stack/webstack.yml:2:").hasMessageContaining("0 is out of range (expected: 1-1000000)");
    }

    @Test
    void dnsNsidIsPrintableText() {
        assertThat(StackConfig.parse(FILE, "dns:\n  listen: 127.0.0.1:5353\n").dns().nsid()).as("default: none").isEmpty();
        assertThat(StackConfig.parse(FILE, "dns:\n  nsid: ns1.foobar.com\n").dns().nsid()).isEqualTo("ns1.foobar.com");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  nsid: ns 1\n"))
                .hasMessageContaining("/srv/stack/webstack.yml:2:").hasMessageContaining("printable ASCII");
    }

    @Test
    void dnsUdpReadersAreSharedUnlessSaidOwn() {
        assertThat(StackConfig.parse(FILE, "dns:\n  listen: 127.0.0.1:5353\n").dns().udpReaders()).as("default")
                .isEqualTo(DnsConfig.UdpReaders.SHARED);
        assertThat(StackConfig.parse(FILE, "dns:\n  udp-readers: own\n").dns().udpReaders()).isEqualTo(DnsConfig.UdpReaders.OWN);
        assertThat(StackConfig.parse(FILE, "dns:\n  udp-readers: shared\n").dns().udpReaders()).isEqualTo(DnsConfig.UdpReaders.SHARED);
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  udp-readers: all\n"))
                .hasMessage("/srv/stack/webstack.yml:2: dns.udp-readers: 'all' (expected one of: shared, own)");
    }

    @Test
    void dnsCpuAffinityIsOnUnlessSwitchedOff() {
        assertThat(StackConfig.parse(FILE, "dns:\n  listen: 127.0.0.1:5353\n").dns().cpuAffinity()).as("default").isTrue();
        assertThat(StackConfig.parse(FILE, "dns:\n  cpu-affinity: off\n").dns().cpuAffinity()).isFalse();
        assertThat(StackConfig.parse(FILE, "dns:\n  cpu-affinity: on\n").dns().cpuAffinity()).isTrue();
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  cpu-affinity: 0,1\n"))
                .hasMessageContaining("/srv/stack/webstack.yml:2:").hasMessageContaining("'0,1'");
    }

    @Test
    void tsigKeysAreReadAndNamedByTransferAndNotifyEntries(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("xfr.tsig"), "c2VjcmV0IHNoYXJlZCB3aXRoIHRoZSBzZWNvbmRhcnk=\n");
        Path file = dir.resolve("webstack.yml");
        DnsConfig dns = StackConfig.parse(file, """
                dns:
                  tsig-keys:
                    - name: XFR.foobar.com
                      secret-file: xfr.tsig
                    - name: other.
                      algorithm: HMAC-SHA512
                      secret: YW5vdGhlciBzZWNyZXQ=
                  transfer-to: ["192.0.2.53 xfr.foobar.com.", 192.0.2.54]
                  notify: ["192.0.2.53:53 other"]
                """).dns();
        assertThat(dns.tsig().keys()).containsOnlyKeys("xfr.foobar.com.", "other.");
        assertThat(dns.tsig().keys().get("xfr.foobar.com.").secret()).isEqualTo("c2VjcmV0IHNoYXJlZCB3aXRoIHRoZSBzZWNvbmRhcnk=");
        assertThat(dns.tsig().keys().get("other.").algorithm()).isEqualTo("hmac-sha512");
        assertThat(dns.tsig().keys().get("other.").toString()).as("never printed").doesNotContain("YW5vdGhlciBzZWNyZXQ=");
        assertThat(dns.transferTo()).containsExactly("192.0.2.53", "192.0.2.54");
        assertThat(dns.tsig().transferKeys()).containsExactly(java.util.Map.entry("192.0.2.53", "xfr.foobar.com."));
        assertThat(dns.notifyTargets()).containsExactly(new HostPort("192.0.2.53", 53));
        assertThat(dns.tsig().notifyKeys()).containsExactly(java.util.Map.entry(new HostPort("192.0.2.53", 53), "other."));

        assertThatThrownBy(() -> StackConfig.parse(file, "dns:\n  transfer-to: [\"192.0.2.53 nokey.\"]\n"))
                .hasMessageContaining("webstack.yml:2").hasMessageContaining("'nokey.' is not a key of dns.tsig-keys");
        assertThatThrownBy(() -> StackConfig.parse(file, "dns:\n  tsig-keys:\n    - name: k.\n      secret: '!!'\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("not base64");
        assertThatThrownBy(() -> StackConfig.parse(file, "dns:\n  tsig-keys:\n    - name: k.\n      algorithm: hmac-sha3\n      secret: YQ==\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("expected one of: hmac-md5");
        assertThatThrownBy(() -> StackConfig.parse(file, "dns:\n  tsig-keys:\n    - name: k.\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("one of secret or secret-file");
        assertThatThrownBy(() -> StackConfig.parse(file, "dns:\n  tsig-keys:\n    - name: k.\n      secret-file: none.tsig\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("none.tsig: cannot read");
    }

    @Test
    void upstreamKeepaliveIsPerEventLoopAndDefaultsToNginxsPeerValue() {
        assertThat(StackConfig.parse(FILE, "").web().upstreamKeepalive()).isEqualTo(64);
        assertThat(StackConfig.parse(FILE, "web:\n  upstream-keepalive: 8\n").web().upstreamKeepalive()).isEqualTo(8);
        assertThat(StackConfig.parse(FILE, "web:\n  upstream-keepalive: 0\n").web().upstreamKeepalive()).isZero();
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  listen: 127.0.0.1:8080\n  upstream-keepalive: -1\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("upstream-keepalive");
    }

    @Test
    void realIpNamesTrustedProxiesAndWhereTheyPutTheClient() {
        WebConfig.RealIp realIp = StackConfig.parse(FILE, "web:\n  real-ip:\n    from: [10.0.0.0/8, \"::1\"]\n    source: proxy-protocol\n")
                .web().realIp().orElseThrow();
        assertThat(realIp.from()).extracting(AddressRange::toString).containsExactly("10.0.0.0/8", "0:0:0:0:0:0:0:1");
        assertThat(realIp.source()).isEqualTo(WebConfig.Source.PROXY_PROTOCOL);
        assertThat(StackConfig.parse(FILE, "web:\n  real-ip:\n    from: [10.0.0.1]\n").web().realIp().orElseThrow().source())
                .isEqualTo(WebConfig.Source.X_FORWARDED_FOR);
        assertThat(StackConfig.parse(FILE, "").web().realIp()).isEmpty();
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  real-ip:\n    source: x-forwarded-for\n"))
                .hasMessageContaining("webstack.yml:2").hasMessageContaining("from: the proxies trusted");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  real-ip:\n    from: [10.0.0.1]\n    source: x-real-ip\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("x-forwarded-for, proxy-protocol");
    }

    @Test
    void errorPagesAreFilesOfThePublicFolderAndBadOnesNameTheLine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("site/public/errors"));
        Files.writeString(dir.resolve("site/public/errors/404.html"), "x");
        Path file = dir.resolve("webstack.yml");
        WebConfig web = StackConfig.parse(file, "web:\n  error-pages:\n    404: /errors/404.html\n    503: /errors/404.html\n").web();
        assertThat(web.errorPages()).containsOnly(java.util.Map.entry(404, "/errors/404.html"), java.util.Map.entry(503, "/errors/404.html"));
        assertThat(StackConfig.parse(FILE, "").web().errorPages()).isEmpty();

        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  error-pages:\n    302: /errors/404.html\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("'302' (expected: an error status, 400-599)");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  error-pages:\n    404: /errors/../../secret\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("the path of a file in the public folder");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  error-pages:\n    404: /errors/missing.html\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("missing.html: no such file in the public folder");
    }

    @Test
    void sniCertificatesAndClientCertificatesAreReadAndBadOnesNameTheLine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("shop.crt"), "x");
        Path key = Files.writeString(dir.resolve("shop.key"), "x");
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        Path file = dir.resolve("webstack.yml");
        WebConfig.Tls tls = StackConfig.parse(file, """
                web:
                  tls:
                    sni:
                      - names: [Shop.Example.com., "*.blog.example.com"]
                        certificate: shop.crt
                        key: shop.key
                      - names: api.example.com
                        certificate: shop.crt
                        key: shop.key
                    verify-client: optional
                    client-ca: ca.pem
                """).web().tls().orElseThrow();
        assertThat(tls.sni()).containsExactly(
                new WebConfig.SniCertificate(List.of("shop.example.com", "*.blog.example.com"), cert, key),
                new WebConfig.SniCertificate(List.of("api.example.com"), cert, key));
        assertThat(tls.verifyClient()).isEqualTo(WebConfig.VerifyClient.OPTIONAL);
        assertThat(tls.ocspResponse()).isEmpty();
        Path ocsp = Files.writeString(dir.resolve("site.ocsp"), "x");
        WebConfig.Tls stapled = StackConfig.parse(file, "web:\n  tls:\n    certificate: shop.crt\n    key: shop.key\n    ocsp-response: site.ocsp\n"
                + "    sni:\n      - names: a.example.com\n        certificate: shop.crt\n        key: shop.key\n        ocsp-response: site.ocsp\n")
                .web().tls().orElseThrow();
        assertThat(stapled.ocspResponse()).hasValue(ocsp);
        assertThat(stapled.sni().getFirst().ocspResponse()).hasValue(ocsp);
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    ocsp-response: site.ocsp\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("not the self-signed one");
        assertThat(tls.clientCa()).hasValue(ca);
        assertThat(StackConfig.parse(FILE, "web:\n  tls: {}\n").web().tls().orElseThrow().verifyClient())
                .isEqualTo(WebConfig.VerifyClient.OFF);

        String entry = "web:\n  tls:\n    sni:\n      - names: [%s]\n        certificate: shop.crt\n        key: %s\n";
        assertThatThrownBy(() -> StackConfig.parse(file, entry.formatted("shop.example.com, \"*\"", "shop.key")))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("'*' (expected: a host name");
        assertThatThrownBy(() -> StackConfig.parse(file, entry.formatted("a..example.com", "shop.key")))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("a..example.com");
        assertThatThrownBy(() -> StackConfig.parse(file, entry.formatted("shop.example.com", "missing.key")))
                .hasMessageContaining("webstack.yml:6").hasMessageContaining("missing.key: no such readable file");
        assertThatThrownBy(() -> StackConfig.parse(file, entry.formatted("", "shop.key")))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("names:");
        assertThatThrownBy(() -> StackConfig.parse(file, """
                web:
                  tls:
                    sni:
                      - names: a.example.com
                        certificate: shop.crt
                        key: shop.key
                      - names: [b.example.com, A.example.com]
                        certificate: shop.crt
                        key: shop.key
                """)).hasMessageContaining("webstack.yml:7").hasMessageContaining("'a.example.com' is named by another sni entry");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    sni:\n      - names: a.example.com\n        key: shop.key\n"))
                .hasMessageContaining("webstack.yml:4").hasMessageContaining("certificate");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    verify-client: required\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("needs client-ca");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    client-ca: ca.pem\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("no effect without verify-client");
        assertThatThrownBy(() -> StackConfig.parse(file, "web:\n  tls:\n    verify-client: on\n    client-ca: ca.pem\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("off, optional, required");
    }

    @Test
    void appServersGetConsecutivePorts() {
        StackConfig c = StackConfig.parse(FILE, "app:\n  servers: 3\n  base-port: 9100\n");

        assertThat(c.app().instances()).extracting(i -> i.name() + "@" + i.address())
                .containsExactly("app-1@127.0.0.1:9100", "app-2@127.0.0.1:9101", "app-3@127.0.0.1:9102");
    }

    @Test
    void unknownKeyIsReportedWithItsLine() {
        String yaml = "web:\n  listen: 127.0.0.1:8080\n  lisen: 1\n";

        assertThatThrownBy(() -> StackConfig.parse(FILE, yaml))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.key()).isEqualTo("web.lisen");
                    assertThat(e.getMessage()).startsWith("/srv/stack/webstack.yml:3: web.lisen: unknown key");
                });
    }

    @Test
    void badValuesNameTheKeyLineAndExpectation() {
        assertThatThrownBy(() -> StackConfig.parse(FILE, "dns:\n  listen: 127.0.0.1:99999\n"))
                .hasMessage("/srv/stack/webstack.yml:2: dns.listen: port: 99999 (expected: 0-65535)");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "app:\n\n  servers: zero\n"))
                .hasMessage("/srv/stack/webstack.yml:3: app.servers: 'zero' is not a whole number");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  read-timeout: soon\n"))
                .hasMessageContaining(":2: web.read-timeout: 'soon' is not a duration");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  read-timeout: 5\n"))
                .as("a number without a unit, but 0").hasMessageContaining(":2: web.read-timeout: '5' is not a duration");
        assertThat(StackConfig.parse(FILE, "web:\n  health-check:\n    interval: 0\n").web().balancing().checkInterval())
                .as("0 needs no unit, as the shipped file's comment writes it").isZero();
        assertThatThrownBy(() -> StackConfig.parse(FILE, "db:\n  mode: cloud\n"))
                .hasMessage("/srv/stack/webstack.yml:2: db.mode: 'cloud' (expected one of: embedded, external)");
    }

    @Test
    void externalDatabaseNeedsUrlAndPasswordFile() {
        assertThatThrownBy(() -> StackConfig.parse(FILE, "db:\n  mode: external\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("db: url: missing");
        StackConfig c = StackConfig.parse(FILE,
                "db:\n  mode: external\n  url: jdbc:mariadb://db.example:3306/site\n  password-file: /etc/site.pw\n");
        assertThat(c.db().jdbcUrl()).isEqualTo("jdbc:mariadb://db.example:3306/site");
        assertThat(c.db().passwordFile()).isEqualTo(Path.of("/etc/site.pw"));
    }

    @Test
    void invalidYamlIsReportedWithItsLine() {
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  listen: [unclosed\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  listen: 1\n  listen: 2\n"))
                .hasMessage("/srv/stack/webstack.yml:3: web.listen: duplicate key");
    }

    @Test
    void aReplicaListensOnTheNextPortWithItsOwnFiles() {
        StackConfig c = StackConfig.parse(FILE, "db:\n  replicas: 1\n");

        DbConfig replica = c.db().replica(1);
        assertThat(replica.listen()).isEqualTo(new HostPort("127.0.0.1", 3308));
        assertThat(replica.dataDir()).isEqualTo(Path.of("/srv/stack/var/db-replica-1"));
        assertThat(replica.database()).isEqualTo("foobar");
        assertThat(c.db().jdbcUrl()).isEqualTo("jdbc:mariadb:sequential://127.0.0.1:3307,127.0.0.1:3308/foobar");
        assertThatThrownBy(() -> c.db().replica(2)).hasMessage("replica: 2 (expected: 1-1)");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "db:\n  replicas: 3\n"))
                .hasMessage("/srv/stack/webstack.yml:2: db.replicas: 3 is out of range (expected: 0-1)");
    }

    @Test
    void balancingAndLimitsAreConfigurable() {
        StackConfig c = StackConfig.parse(FILE, """
                web:
                  balance: least-conn
                  health-check:
                    interval: 500ms
                    fall: 3
                  passive-ejection:
                    fails: 0
                  max-body: 1024
                  lingering-timeout: 0s
                  max-request-line: 4096
                  max-headers: 50
                  keepalive-requests: 0
                """);

        assertThat(c.web().balancing().balance()).isEqualTo(WebConfig.Balance.LEAST_CONN);
        assertThat(c.web().balancing().checkInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.web().balancing().fall()).isEqualTo(3);
        assertThat(c.web().balancing().rise()).isEqualTo(2);
        assertThat(c.web().balancing().ejectAfter()).isZero();
        assertThat(c.web().limits().maxBody()).isEqualTo(1024);
        assertThat(c.web().limits().lingeringTimeout()).isZero();
        assertThat(c.web().limits().lingeringTime()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.web().limits().maxRequestLine()).isEqualTo(4096);
        assertThat(c.web().limits().maxHeaderSize()).as("default").isEqualTo(16 * 1024);
        assertThat(c.web().limits().maxHeaders()).isEqualTo(50);
        assertThat(c.web().limits().keepaliveRequests()).as("no limit").isZero();
        assertThat(c.web().limits().keepaliveTime()).as("default, nginx's").isEqualTo(Duration.ofHours(1));
        assertThat(StackConfig.parse(FILE, "web:\n  keepalive-time: 0s\n").web().limits().keepaliveTime()).isZero();
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  keepalive-time: -5s\n"))
                .hasMessageStartingWith("/srv/stack/webstack.yml:2: web.keepalive-time: ");
        assertThat(StackConfig.parse(FILE, "web:\n  max-body: 1\n").web().limits().keepaliveRequests()).as("default, nginx's")
                .isEqualTo(1000);
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  keepalive-requests: -1\n"))
                .hasMessageStartingWith("/srv/stack/webstack.yml:2: web.keepalive-requests: -1 is out of range");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  max-header-size: 2000000\n"))
                .hasMessageStartingWith("/srv/stack/webstack.yml:2: web.max-header-size: ");
        assertThat(c.web().admin()).isEqualTo(new HostPort("127.0.0.1", 8081));
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  balance: random\n"))
                .hasMessage("/srv/stack/webstack.yml:2: web.balance: 'random' (expected one of: round-robin, weighted, least-conn, p2c)");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  health-check:\n    intervall: 1s\n"))
                .hasMessageStartingWith("/srv/stack/webstack.yml:3: web.health-check.intervall: unknown key");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  admin: 10.0.0.1:8081\n"))
                .hasMessageContaining("web.admin: '10.0.0.1:8081' (expected: a loopback address");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  lingering-time: soon\n"))
                .hasMessage("/srv/stack/webstack.yml:2: web.lingering-time: 'soon' is not a duration (expected e.g. 500ms, 30s, 5m, 1h, 365d)");
    }

    @Test
    void limitsMadeInCodeAreChecked_aConfigFileStillGetsItsLineFirst() {
        WebConfig.Limits d = WebConfig.Limits.DEFAULTS;
        assertThatThrownBy(() -> d.withHeaderLimits(d.maxRequestLine(), d.maxHeaderSize(), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxRequestLine, maxHeaderSize, maxHeaders: 8192, 16384, 0 (expected: 1 to 1048576 bytes, > 0 fields)");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  max-headers: 0\n"))
                .hasMessage("/srv/stack/webstack.yml:2: web.max-headers: 0 is out of range (expected: 8-10000)");
    }
}
