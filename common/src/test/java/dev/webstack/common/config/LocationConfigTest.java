package dev.webstack.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code web.locations} and {@code web.mime-types}: what each entry becomes, and the errors with file and line. */
class LocationConfigTest {
    private static final Path FILE = Path.of("/srv/stack/webstack.yml");

    private static WebConfig web(String yaml) {
        return StackConfig.parse(FILE, "web:\n" + yaml).web();
    }

    @Test
    void eachKindAndActionIsRead() {
        WebConfig web = web("""
                  locations:
                    - path: = /robots.txt
                      root: site/public
                    - path: /static/
                      root: site/public
                      cache-control: public, max-age=31536000, immutable
                      index: [index.html, index.htm]
                    - path: ^~ /assets/
                      root: assets
                      try-files: true
                    - path: "~ ^/posts/([0-9]+)$"
                      redirect: https://blog.foobar.com/p/$1$is_args$args
                      status: 308
                    - path: "~* \\\\.php$"
                      return: 404
                    - path: /teapot
                      host: tea.foobar.com
                      return: 418
                      body: short and stout
                    - path: /
                      proxy: app
                """);

        assertThat(web.locations()).extracting(LocationConfig::describe).containsExactly(
                "location = /robots.txt -> root /srv/stack/site/public",
                "location /static/ -> root /srv/stack/site/public, index index.html index.htm,"
                        + " Cache-Control: public, max-age=31536000, immutable",
                "location ^~ /assets/ -> root /srv/stack/assets, else proxy app",
                "location ~ ^/posts/([0-9]+)$ -> redirect 308 https://blog.foobar.com/p/$1$is_args$args",
                "location ~* \\.php$ -> return 404",
                "location tea.foobar.com /teapot -> return 418",
                "location / -> proxy app");
        LocationConfig teapot = web.locations().get(5);
        assertThat(teapot.kind()).isEqualTo(LocationConfig.Kind.PREFIX);
        assertThat(teapot.host()).contains("tea.foobar.com");
        assertThat(teapot.action()).isEqualTo(new LocationConfig.Return(418, Optional.of("short and stout")));
        assertThat(web.locations().get(4).kind()).isEqualTo(LocationConfig.Kind.REGEX_CASELESS);
        assertThat(web.locations().get(4).pattern()).isEqualTo("\\.php$");
        assertThat(web.locations().get(2).tryFiles()).isTrue();
    }

    @Test
    void theOlderStaticListBecomesTheSameLocations() {
        WebConfig fromStatic = web("  static: [/static/, /favicon.ico]\n");
        WebConfig fromLocations = web("""
                  locations:
                    - path: /static/
                      root: site/public
                    - path: = /favicon.ico
                      root: site/public
                    - path: /
                      proxy: app
                """);

        assertThat(fromStatic.locations()).isEqualTo(fromLocations.locations());
        assertThat(web("  locations: []\n").locations()).as("everything to the app").isEmpty();
    }

    @Test
    void redirectsDefaultTo302AndNoCacheControl() {
        LocationConfig l = web("""
                  locations:
                    - path: /old/
                      redirect: $scheme://www.foobar.com${request_uri}
                """).locations().getFirst();

        assertThat(l.action()).isEqualTo(new LocationConfig.Redirect("$scheme://www.foobar.com${request_uri}", 302));
        assertThat(l.cacheControl()).isEmpty();
    }

    @Test
    void mimeTypesAreReadInLowerCase() {
        assertThat(web("  mime-types:\n    MD: text/markdown; charset=utf-8\n    glb: model/gltf-binary\n").mimeTypes())
                .isEqualTo(Map.of("md", "text/markdown; charset=utf-8", "glb", "model/gltf-binary"));
        assertThat(web("").mimeTypes()).isEmpty();
    }

    @Test
    void aProxyLocationMayGiveTheCacheControlOfTheAppsAnswers() {
        LocationConfig api = web("  locations:\n    - path: /api/\n      proxy: app\n      cache-control: private, no-cache\n")
                .locations().getFirst();
        assertThat(api.cacheControl()).contains("private, no-cache");
        assertThat(api.describe()).isEqualTo("location /api/ -> proxy app, Cache-Control: private, no-cache");
    }

    @Test
    void errorsNameTheFileLineKeyAndReason() {
        String head = "web:\n  locations:\n";
        assertError(head + "    - path: \"~ ^/posts/([0-9]+$\"\n      proxy: app\n",
                "/srv/stack/webstack.yml:3: web.locations[0].path: '^/posts/([0-9]+$' is not a valid regex: Unclosed group near index 16");
        assertError(head + "    - path: /a/\n      root: site/public\n      proxy: app\n",
                "/srv/stack/webstack.yml:5: web.locations[0].proxy: a location has one action, and this one already has root");
        assertError(head + "    - path: /a/\n      redirect: /b/\n      status: 303\n",
                "/srv/stack/webstack.yml:5: web.locations[0].status: 303 (expected: 301, 302, 307 or 308)");
        assertError(head + "    - path: /a/\n      return: 302\n",
                "/srv/stack/webstack.yml:4: web.locations[0].return: 302 (expected: a 2xx, 4xx or 5xx status; use redirect: for 3xx)");
        assertError(head + "    - path: /a/\n      return: 700\n",
                "/srv/stack/webstack.yml:4: web.locations[0].return: 700 is out of range (expected: 100-599)");
        assertError(head + "    - path: /a/\n",
                "/srv/stack/webstack.yml:3: web.locations[0]: a location needs one of root, proxy, redirect, return");
        assertError(head + "    - root: site/public\n",
                "/srv/stack/webstack.yml:3: web.locations[0]: path is missing (e.g. path: /static/)");
        assertError(head + "    - path: static/\n      root: site/public\n",
                "/srv/stack/webstack.yml:3: web.locations[0].path: 'static/' (expected: /prefix/, = /exact, ^~ /prefix/, ~ regex or ~* regex)");
        assertError(head + "    - path: /a/\n      proxy: backend\n",
                "/srv/stack/webstack.yml:4: web.locations[0].proxy: 'backend' (expected: app, the app servers' pool)");
        assertError(head + "    - path: /a/\n      proxy: app\n      try-files: true\n",
                "/srv/stack/webstack.yml:5: web.locations[0].try-files: goes only with root");
        assertError(head + "    - path: /a/\n      redirect: /b$path\n",
                "/srv/stack/webstack.yml:4: web.locations[0].redirect: $path is not a known variable"
                        + " (expected: $request_uri, $uri, $args, $is_args, $host, $scheme)");
        assertError(head + "    - path: \"~ ^/p/([0-9]+)$\"\n      redirect: /q/$2\n",
                "/srv/stack/webstack.yml:4: web.locations[0].redirect: $2 is not a group of this location's regex"
                        + " (expected: $request_uri, $uri, $args, $is_args, $host, $scheme, $1-$1)");
        assertError(head + "    - path: /a/\n      root: x\n    - path: /b/\n      proxy: app\n    - path: /a/\n      return: 404\n",
                "/srv/stack/webstack.yml:7: web.locations[2].path: '/a/' is already a location");
        assertError(head + "    - path: /a/\n      root: x\n      index: [../secret]\n",
                "/srv/stack/webstack.yml:5: web.locations[0].index[0]: '../secret' (expected: a file name such as index.html)");
        assertError(head + "    - path: /a/\n      host: www.foobar.com:8080\n      root: x\n",
                "/srv/stack/webstack.yml:4: web.locations[0].host: 'www.foobar.com:8080' (expected: a host name without a port)");
        assertError(head + "    - path: /a/\n      return: 204\n      body: nothing\n",
                "/srv/stack/webstack.yml:5: web.locations[0].body: a 204 answer has no body");
        assertError(head + "    - path: /a/\n      host: WWW.foobar.com\n      root: x\n",
                "/srv/stack/webstack.yml:4: web.locations[0].host: 'www.foobar.com' is the site's own name: its locations are"
                        + " the ones without host");
        assertError("web:\n  static: [/static/]\n  locations: []\n",
                "/srv/stack/webstack.yml:2: web.static: use either static or locations (a static path is a location with root:)");
        assertError("web:\n  mime-types:\n    .md: text/markdown\n",
                "/srv/stack/webstack.yml:3: web.mime-types..md: '.md' (expected: a lower-case file extension without the dot, e.g. md)");
        assertError("web:\n  mime-types:\n    md: markdown\n",
                "/srv/stack/webstack.yml:3: web.mime-types.md: 'markdown' (expected: a media type such as text/markdown; charset=utf-8)");
    }

    @Test
    void allowDenyAndARequestRateAreRead() {
        List<LocationConfig> l = web("""
                  locations:
                    - path: /admin/
                      proxy: app
                      allow: [127.0.0.1, 10.0.0.0/8, "2001:db8::/32"]
                      deny: 10.0.5.7/24
                    - path: /api/
                      proxy: app
                      limit-requests: 30/m
                      limit-burst: 5
                    - path: /
                      proxy: app
                      deny: all
                """).locations();
        LocationConfig.Access admin = l.get(0).access();
        assertThat(admin.allow()).extracting(AddressRange::toString).containsExactly("127.0.0.1", "10.0.0.0/8", "2001:db8:0:0:0:0:0:0/32");
        assertThat(admin.deny()).extracting(AddressRange::toString).as("bits past the prefix ignored").containsExactly("10.0.5.0/24");
        assertThat(admin.rate()).isEmpty();
        assertThat(l.get(1).access()).isEqualTo(new LocationConfig.Access(List.of(), List.of(),
                Optional.of(new LocationConfig.RequestRate(0.5, 5))));
        assertThat(l.get(1).describe()).isEqualTo("location /api/ -> proxy app, 30/m per client, burst 5");
        assertThat(l.get(2).access().deny()).containsExactly(AddressRange.ALL);
        assertThat(web("  locations:\n    - path: /\n      proxy: app\n").locations().getFirst().access())
                .isEqualTo(LocationConfig.Access.OPEN);

        String head = "web:\n  locations:\n    - path: /a/\n      proxy: app\n";
        assertError(head + "      allow: [10.0.0.0/33]\n",
                "/srv/stack/webstack.yml:5: web.locations[0].allow[0]: '10.0.0.0/33': the prefix length must be 0-32");
        assertError(head + "      deny: [example.com]\n",
                "/srv/stack/webstack.yml:5: web.locations[0].deny[0]: 'example.com' (expected: all, an IP address, or a network such as 10.0.0.0/8)");
        assertError(head + "      limit-requests: 10/h\n",
                "/srv/stack/webstack.yml:5: web.locations[0].limit-requests: '10/h' (expected: requests per client per second or minute, e.g. 10/s or 30/m)");
        assertError(head + "      limit-requests: 0/s\n",
                "/srv/stack/webstack.yml:5: web.locations[0].limit-requests: '0/s' (expected: requests per client per second or minute, e.g. 10/s or 30/m)");
        assertError(head + "      limit-burst: 5\n",
                "/srv/stack/webstack.yml:5: web.locations[0].limit-burst: goes only with limit-requests");
    }

    @Test
    void headersAreReadInOrderAndReservedOnesRefused() {
        LocationConfig l = web("""
                  locations:
                    - path: /
                      proxy: app
                      headers:
                        X-Frame-Options: DENY
                        Content-Security-Policy: default-src 'self'
                """).locations().getFirst();
        assertThat(l.headers()).containsExactly(Map.entry("X-Frame-Options", "DENY"), Map.entry("Content-Security-Policy", "default-src 'self'"));
        assertThat(l.describe()).isEqualTo("location / -> proxy app, X-Frame-Options: DENY, Content-Security-Policy: default-src 'self'");

        String head = "web:\n  locations:\n    - path: /a/\n      proxy: app\n      headers:\n";
        assertError(head + "        Content-Length: 5\n",
                "/srv/stack/webstack.yml:6: web.locations[0].headers.Content-Length: the web tier sets Content-Length itself");
        assertError(head + "        cache-control: no-store\n",
                "/srv/stack/webstack.yml:6: web.locations[0].headers.cache-control: the web tier sets cache-control itself (use cache-control:)");
        assertError(head + "        X-A: 1\n        x-a: 2\n",
                "/srv/stack/webstack.yml:7: web.locations[0].headers.x-a: 'x-a' is given twice");
        assertError(head + "        \"X A\": 1\n",
                "/srv/stack/webstack.yml:6: web.locations[0].headers.X A: 'X A' is not a header name");
    }

    @Test
    void basicAuthNeedsARealmAndAReadableFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path users = java.nio.file.Files.writeString(dir.resolve("htpasswd"), "alice:{PLAIN}x\n");
        Path file = dir.resolve("webstack.yml");
        LocationConfig l = StackConfig.parse(file, "web:\n  locations:\n    - path: /a/\n      proxy: app\n"
                + "      auth-basic: Staff only\n      auth-basic-user-file: htpasswd\n").web().locations().getFirst();
        assertThat(l.access().basicAuth()).hasValue(new LocationConfig.BasicAuth("Staff only", users));
        assertThat(l.describe()).isEqualTo("location /a/ -> proxy app, auth-basic \"Staff only\" " + users);

        String head = "web:\n  locations:\n    - path: /a/\n      proxy: app\n";
        assertThatThrownBy(() -> StackConfig.parse(file, head + "      auth-basic: Staff\n"))
                .hasMessageContaining("webstack.yml:5").hasMessageContaining("give both auth-basic");
        assertThatThrownBy(() -> StackConfig.parse(file, head + "      auth-basic: Staff\n      auth-basic-user-file: nope\n"))
                .hasMessageContaining("webstack.yml:6").hasMessageContaining("nope: no such readable file");
        assertThatThrownBy(() -> StackConfig.parse(file, head + "      auth-basic: 'say \"hi\"'\n      auth-basic-user-file: htpasswd\n"))
                .hasMessageContaining("webstack.yml:5").hasMessageContaining("without quotes");
    }

    @Test
    void addressRangesContainTheirAddressesOnly() throws Exception {
        AddressRange ten = AddressRange.parse("10.0.0.0/8");
        assertThat(ten.contains(java.net.InetAddress.getByName("10.255.1.2"))).isTrue();
        assertThat(ten.contains(java.net.InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(ten.contains(java.net.InetAddress.getByName("::ffff:10.1.2.3"))).as("IPv4-mapped").isTrue();
        assertThat(ten.contains(java.net.InetAddress.getByName("::1"))).isFalse();
        AddressRange odd = AddressRange.parse("192.0.2.128/25");
        assertThat(odd.contains(java.net.InetAddress.getByName("192.0.2.200"))).isTrue();
        assertThat(odd.contains(java.net.InetAddress.getByName("192.0.2.127"))).isFalse();
        AddressRange v6 = AddressRange.parse("2001:db8:ab00::/40");
        assertThat(v6.contains(java.net.InetAddress.getByName("2001:db8:abff::1"))).isTrue();
        assertThat(v6.contains(java.net.InetAddress.getByName("2001:db8:ac00::1"))).isFalse();
        assertThat(AddressRange.parse("::1").contains(java.net.InetAddress.getByName("::1"))).isTrue();
        assertThat(AddressRange.parse("127.0.0.1").contains(java.net.InetAddress.getByName("127.0.0.2"))).isFalse();
        assertThat(AddressRange.parse("0.0.0.0/0").contains(java.net.InetAddress.getByName("::1"))).as("an IPv4 block holds no IPv6 address").isFalse();
        assertThat(AddressRange.ALL.contains(java.net.InetAddress.getByName("::1"))).isTrue();
        assertThatThrownBy(() -> AddressRange.parse("localhost")).hasMessageContaining("expected: all, an IP address");
        assertThatThrownBy(() -> AddressRange.parse("10.0.0.1/x")).hasMessageContaining("prefix length must be 0-32");
        assertThatThrownBy(() -> AddressRange.parse("::1/129")).hasMessageContaining("prefix length must be 0-128");
    }

    @Test
    void duplicatePathsOfOtherHostsAreDistinctLocations() {
        List<LocationConfig> l = web("""
                  locations:
                    - path: /a/
                      root: x
                    - path: /a/
                      host: other.example
                      return: 404
                    - path: = /a/
                      return: 200
                """).locations();

        assertThat(l).hasSize(3);
    }

    @Test
    void autoindexIsASwitchOrAFormat() {
        Map<String, LocationConfig.AutoIndex> values = Map.of("true", LocationConfig.AutoIndex.HTML, "Yes", LocationConfig.AutoIndex.HTML,
                "'on'", LocationConfig.AutoIndex.HTML, "html", LocationConfig.AutoIndex.HTML, "JSON", LocationConfig.AutoIndex.JSON,
                "false", LocationConfig.AutoIndex.OFF, "'no'", LocationConfig.AutoIndex.OFF, "OFF", LocationConfig.AutoIndex.OFF);
        values.forEach((value, expected) -> {
            LocationConfig files = web("""
                      locations:
                        - path: /files/
                          root: files
                          autoindex: %s
                    """.formatted(value)).locations().get(0);
            assertThat(((LocationConfig.Root) files.action()).autoindex()).as(value).isEqualTo(expected);
        });
        assertError("""
                web:
                  locations:
                    - path: /files/
                      root: files
                      autoindex: xml
                """, "/srv/stack/webstack.yml:5: web.locations[0].autoindex: 'xml' (expected: false, true (an HTML page), html or json)");
    }

    private static void assertError(String yaml, String message) {
        assertThatThrownBy(() -> StackConfig.parse(FILE, yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }
}
