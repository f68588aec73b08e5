package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestPathsTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "/static/../secret",
            "/static/%2e%2e/secret",
            "/static/%2E%2E/secret",
            "/static/.%2e/secret",
            "/static/%2e%2e%2fsecret",
            "/static/..%2fsecret",
            "/static/..%5csecret",
            "/static/..\\secret",
            "/static/a%00.css",
            "/static/a%0a.css",
            "/static/a%7f.css",
            "/static/a\001.css",
            "/static/a\177.css",
            "/static/a\tb.css",
            "/static/%c0%ae%c0%ae/secret",
            "/static/%c0%af",
            "/static/%e0%80%ae%e0%80%ae/secret",
            "/static/%ed%a0%80",
            "/static/%ff",
            "/static/%zz",
            "/static/%2",
            "/static/./app.css",
            "/static//app.css",
            "/static/..",
            "static/app.css",
    })
    void rejectsAnythingButAPlainFilePath(String raw) {
        assertThat(RequestPaths.safeSegments(raw)).as(raw).isEmpty();
    }

    @Test
    void decodesOnce() {
        assertThat(RequestPaths.safeSegments("/static/%252e%252e/secret"))
                .contains(List.of("static", "%2e%2e", "secret"));
        assertThat(RequestPaths.safeSegments("/static/caf%C3%A9%20menu.txt"))
                .contains(List.of("static", "café menu.txt"));
        assertThat(RequestPaths.safeSegments("/static/..app.css"))
                .contains(List.of("static", "..app.css"));
    }

    @ParameterizedTest
    @CsvSource({
            "/static/app.css,           /static/app.css",
            "/,                         /",
            "//static//app.css,         /static/app.css",
            "/static/./app.css,         /static/app.css",
            "/static/%2e/app.css,       /static/app.css",
            "/static/sub/../app.css,    /static/app.css",
            "/static/sub/%2E%2e/app.css, /static/app.css",
            "/static/sub/.%2e/app.css,  /static/app.css",
            "/static/sub/..,            /static/",
            "/static/sub/.,             /static/sub/",
            "/static//,                 /static/",
            "/static/..,                /",
            "/.,                        /",
            "/.well-known/x,            /.well-known/x",
            "/static/..app.css,         /static/..app.css",
            "/static/%2e%2e%2fsecret,   /static/%2e%2e%2fsecret",
            "/static/%252e%252e/secret, /static/%252e%252e/secret",
            "/static/..%5csecret,       /static/..%5csecret",
    })
    void normalizeResolvesEmptyAndDotSegmentsAsNginxDoes(String raw, String expected) {
        assertThat(RequestPaths.normalize(raw)).as(raw).contains(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/..", "/../secret", "/static/../../secret", "//..//secret", "/%2e%2e/secret", "/a/./../../b"})
    void normalizeRefusesToClimbAboveTheRoot(String raw) {
        assertThat(RequestPaths.normalize(raw)).as(raw).isEmpty();
    }

    @Test
    void trailingSlashIsAnEmptyLastSegment() {
        assertThat(RequestPaths.safeSegments("/static/")).contains(List.of("static", ""));
    }

    @Test
    void pathAndQueryOfTargets() {
        assertThat(RequestPaths.path("/a/b?x=1#f")).contains("/a/b");
        assertThat(RequestPaths.path("http://www.foobar.com/a?x")).contains("/a");
        assertThat(RequestPaths.path("http://www.foobar.com")).contains("/");
        assertThat(RequestPaths.path("*")).isEmpty();
        assertThat(RequestPaths.path("www.foobar.com:80")).isEmpty();
        assertThat(RequestPaths.query("/a?x=1&y=2")).isEqualTo("?x=1&y=2");
        assertThat(RequestPaths.query("/a")).isEmpty();
    }

    @Test
    void lenientDecodingIsForRoutingOnly() {
        assertThat(RequestPaths.decodeLeniently("/st%61tic/a%zz")).isEqualTo("/static/a%zz");
    }
}
