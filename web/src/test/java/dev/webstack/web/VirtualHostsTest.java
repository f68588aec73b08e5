package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class VirtualHostsTest {
    private final VirtualHosts hosts = new VirtualHosts(TestConfigs.SITE);

    private static HttpRequest request(HttpVersion version, String uri, String... hostHeaders) {
        HttpRequest req = new DefaultHttpRequest(version, HttpMethod.GET, uri);
        for (String h : hostHeaders) {
            req.headers().add("Host", h);
        }
        return req;
    }

    @Test
    void canonicalNameIsServedWhateverItsCaseAndPort() {
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "www.foobar.com"))).isInstanceOf(VirtualHosts.Serve.class);
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "WWW.FooBar.com:8080"))).isInstanceOf(VirtualHosts.Serve.class);
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "www.foobar.com."))).isInstanceOf(VirtualHosts.Serve.class);
    }

    @Test
    void apexIsRedirectedWithPathAndQuery() {
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/a/b?x=1&y=%20", "foobar.com")))
                .isEqualTo(new VirtualHosts.Redirect("http://www.foobar.com/a/b?x=1&y=%20"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "Foobar.com:80")))
                .isEqualTo(new VirtualHosts.Redirect("http://www.foobar.com/"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/p", "foobar.com:8080")))
                .isEqualTo(new VirtualHosts.Redirect("http://www.foobar.com:8080/p"));
    }

    @Test
    void withRedirectHttpPlainRequestsForTheSiteGoToHttps() {
        VirtualHosts redirecting = new VirtualHosts(TestConfigs.SITE, java.util.Set.of("static.foobar.com"), 8443);
        assertThat(redirecting.decide(request(HttpVersion.HTTP_1_1, "/p?q=1", "www.foobar.com:8080"), false))
                .isEqualTo(new VirtualHosts.Redirect("https://www.foobar.com:8443/p?q=1"));
        assertThat(redirecting.decide(request(HttpVersion.HTTP_1_1, "/", "foobar.com"), false))
                .as("the apex straight to www").isEqualTo(new VirtualHosts.Redirect("https://www.foobar.com:8443/"));
        assertThat(redirecting.decide(request(HttpVersion.HTTP_1_1, "/a.css", "static.foobar.com"), false))
                .isEqualTo(new VirtualHosts.Redirect("https://static.foobar.com:8443/a.css"));
        assertThat(redirecting.decide(request(HttpVersion.HTTP_1_1, "/", "evil.example"), false)).isInstanceOf(VirtualHosts.Misdirected.class);
        assertThat(redirecting.decide(request(HttpVersion.HTTP_1_1, "/", "www.foobar.com"), true)).isInstanceOf(VirtualHosts.Serve.class);
        assertThat(new VirtualHosts(TestConfigs.SITE, java.util.Set.of(), 443).decide(request(HttpVersion.HTTP_1_1, "/x", "www.foobar.com"), false))
                .as("the default port is left out").isEqualTo(new VirtualHosts.Redirect("https://www.foobar.com/x"));
    }

    @Test
    void apexOverHttpsIsRedirectedToHttps() {
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/a?b", "foobar.com:443"), true))
                .isEqualTo(new VirtualHosts.Redirect("https://www.foobar.com/a?b"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "foobar.com:8443"), true))
                .isEqualTo(new VirtualHosts.Redirect("https://www.foobar.com:8443/"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "foobar.com:80"), true))
                .as("port 80 over TLS is not the default port").isEqualTo(new VirtualHosts.Redirect("https://www.foobar.com:80/"));
    }

    @Test
    void otherNamesAreMisdirected() {
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "evil.example")))
                .isEqualTo(new VirtualHosts.Misdirected("evil.example"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "127.0.0.1:8080")))
                .isEqualTo(new VirtualHosts.Misdirected("127.0.0.1"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "[::1]:8080")))
                .isEqualTo(new VirtualHosts.Misdirected("[::1]"));
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "xwww.foobar.com")))
                .isInstanceOf(VirtualHosts.Misdirected.class);
    }

    @Test
    void absoluteFormAuthorityWinsOverHost() {
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "http://evil.example/x", "www.foobar.com")))
                .isInstanceOf(VirtualHosts.Misdirected.class);
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "http://www.foobar.com/x", "evil.example")))
                .isInstanceOf(VirtualHosts.Serve.class);
    }

    @Test
    void hostIsRequiredOnceInHttp11() {
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/"))).isInstanceOf(VirtualHosts.BadHost.class);
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_1, "/", "www.foobar.com", "www.foobar.com")))
                .isInstanceOf(VirtualHosts.BadHost.class);
        assertThat(hosts.decide(request(HttpVersion.HTTP_1_0, "/"))).isInstanceOf(VirtualHosts.Serve.class);
    }
}
