package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** How a {@code redirect:} URL is filled in for one request. */
class RedirectTargetTest {
    private static final Locations LOCATIONS;

    static {
        WebConfig web = StackConfig.parse(Path.of("/srv/webstack.yml"), """
                web:
                  locations:
                    - path: "~ ^/go/([^/]*)$"
                      redirect: https://example.com/to/$1
                    - path: "~* ^/(blog)/([0-9]+)$"
                      redirect: /$2/${1}?from=$uri&$args
                """).web();
        LOCATIONS = new Locations(web.locations(), MimeTypes.BUILT_IN);
    }

    private static String fill(String template, String uri) {
        String path = RequestPaths.decodeLeniently(RequestPaths.path(uri).orElseThrow());
        Location location = LOCATIONS.select(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri), path);
        return new RedirectTarget(template).fill(new RedirectTarget.Request(uri, "www.foobar.com", path, location, false));
    }

    @Test
    void namedVariablesComeFromTheRequestLineAsReceived() {
        assertThat(fill("$scheme://$host$request_uri", "/a%20b/c?x=1&y=%41")).isEqualTo("http://www.foobar.com/a%20b/c?x=1&y=%41");
        assertThat(fill("$uri$is_args$args", "/p?q")).isEqualTo("/p?q");
        assertThat(fill("$uri$is_args$args", "/p")).isEqualTo("/p");
        assertThat(fill("/new${uri}", "http://www.foobar.com/old?z")).as("absolute-form").isEqualTo("/new/old");
        assertThat(fill("/fixed", "/anything?x")).isEqualTo("/fixed");
    }

    @Test
    void regexGroupsAreEncodedAgainSoNoHeaderCanBeInjected() {
        assertThat(fill("/to/$1", "/go/a%0d%0aSet-Cookie:%20x=1")).isEqualTo("/to/a%0D%0ASet-Cookie:%20x=1");
        assertThat(fill("/to/$1", "/go/caf%C3%A9")).isEqualTo("/to/caf%C3%A9");
        assertThat(fill("/$2/${1}", "/BLOG/42")).isEqualTo("/42/BLOG");
        assertThat(fill("/$2/$3", "/blog/7")).as("a group the regex does not have is empty").isEqualTo("/7/");
    }
}
