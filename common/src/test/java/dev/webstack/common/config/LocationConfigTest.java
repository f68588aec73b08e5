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

    private static void assertError(String yaml, String message) {
        assertThatThrownBy(() -> StackConfig.parse(FILE, yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }
}
