package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The selection order of {@link Locations}, in memory: which location each path gets. */
class LocationsTest {
    private static final String LOCATIONS = """
            web:
              locations:
                - path: /
                  proxy: app
                - path: /static/
                  root: public
                - path: /static/img/
                  root: public
                  cache-control: max-age=60
                - path: = /static/exact.txt
                  return: 200
                  body: exact
                - path: ^~ /static/fonts/
                  root: public
                - path: "~ \\\\.php$"
                  return: 403
                - path: "~ ^/static/.*\\\\.txt$"
                  return: 200
                  body: first regex
                - path: "~ ^/static/a"
                  return: 200
                  body: second regex
                - path: "~* \\\\.PNG$"
                  return: 200
                  body: caseless
                - path: /other/
                  host: other.example
                  return: 200
                  body: other host
            """;

    private static Locations locations(String yaml) {
        WebConfig web = StackConfig.parse(Path.of("/srv/stack/webstack.yml"), yaml).web();
        return new Locations(web.locations(), new MimeTypes(web.mimeTypes()));
    }

    private static String select(Locations l, String host, String path) {
        HttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        req.headers().set("Host", host);
        return l.select(req, path).config().describe();
    }

    private static String select(Locations l, String path) {
        return select(l, "www.foobar.com", path);
    }

    @Test
    void exactThenLongestPrefixThenRegexInFileOrder() {
        Locations l = locations(LOCATIONS);

        assertThat(select(l, "/static/exact.txt")).as("exact beats every regex").isEqualTo("location = /static/exact.txt -> return 200");
        assertThat(select(l, "/static/other.txt")).as("the first matching regex, in file order")
                .isEqualTo("location ~ ^/static/.*\\.txt$ -> return 200");
        assertThat(select(l, "/static/a.txt")).as("both regexes match: the first wins")
                .isEqualTo("location ~ ^/static/.*\\.txt$ -> return 200");
        assertThat(select(l, "/static/about")).isEqualTo("location ~ ^/static/a -> return 200");
        assertThat(select(l, "/static/main.css")).as("no regex: the longest prefix")
                .isEqualTo("location /static/ -> root /srv/stack/public");
        assertThat(select(l, "/static/img/logo.gif")).isEqualTo("location /static/img/ -> root /srv/stack/public, Cache-Control: max-age=60");
        assertThat(select(l, "/index.php")).as("a regex beats the / prefix").isEqualTo("location ~ \\.php$ -> return 403");
        assertThat(select(l, "/posts/1")).isEqualTo("location / -> proxy app");
    }

    @Test
    void aCaretTildePrefixStopsTheRegexSearch() {
        Locations l = locations(LOCATIONS);

        assertThat(select(l, "/static/fonts/a.txt")).isEqualTo("location ^~ /static/fonts/ -> root /srv/stack/public");
        assertThat(select(l, "/static/fonts/x.php")).isEqualTo("location ^~ /static/fonts/ -> root /srv/stack/public");
        // A plain prefix does not: the regex still wins under /static/img/.
        assertThat(select(l, "/static/img/a.txt")).isEqualTo("location ~ ^/static/.*\\.txt$ -> return 200");
    }

    @Test
    void tildeStarIgnoresCase() {
        Locations l = locations(LOCATIONS);

        assertThat(select(l, "/static/img/LOGO.png")).isEqualTo("location ~* \\.PNG$ -> return 200");
        assertThat(select(l, "/static/img/logo.Png")).isEqualTo("location ~* \\.PNG$ -> return 200");
        assertThat(select(l, "/INDEX.PHP")).as("~ is case-sensitive").isEqualTo("location / -> proxy app");
    }

    @Test
    void hostsWithLocationsOfTheirOwnUseOnlyThose() {
        Locations l = locations(LOCATIONS);

        assertThat(l.hosts()).containsExactly("other.example");
        assertThat(select(l, "Other.Example:8080", "/other/x")).isEqualTo("location other.example /other/ -> return 200");
        assertThat(select(l, "other.example", "/static/app.css")).as("none of the site's locations, so the app")
                .isEqualTo("location / -> proxy app");
        assertThat(select(l, "/other/x")).as("the site's name does not see other.example's locations")
                .isEqualTo("location / -> proxy app");
    }

    @Test
    void aPathNoLocationMatchesGoesToTheApp() {
        Locations l = locations("web:\n  locations:\n    - path: = /robots.txt\n      root: public\n");

        assertThat(select(l, "/robots.txt")).isEqualTo("location = /robots.txt -> root /srv/stack/public");
        assertThat(select(l, "/robots.txt/")).isEqualTo("location / -> proxy app");
        assertThat(l.select(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x"), "/x")).isSameAs(Location.PROXY_ALL);
    }

    @Test
    void locationsWithTheSameRootAndCacheControlShareTheirFiles() {
        Locations l = locations(LOCATIONS);
        StaticFiles plain = ((Location.Files) l.all().get(1).answer()).files();

        assertThat(((Location.Files) l.all().get(4).answer()).files()).as("^~ /static/fonts/").isSameAs(plain);
        assertThat(((Location.Files) l.all().get(2).answer()).files()).as("another Cache-Control").isNotSameAs(plain);
    }
}
