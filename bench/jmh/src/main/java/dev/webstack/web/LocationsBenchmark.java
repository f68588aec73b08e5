package dev.webstack.web;

import dev.webstack.common.config.StackConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Locations#select}: the location of every request, chosen before anything else is done
 * with it. Two tables: {@code defaults}, the four locations of the shipped {@code webstack.yml}
 * (no regex, so a prefix ends the search), and {@code nginx-like}, a typical nginx site with exact
 * paths, a {@code ^~} prefix and two regexes in front of {@code / -> proxy}. Each path exercises
 * one step of the selection order: an exact hit, a prefix, the first regex, the second regex, and
 * a path every regex is tried on before the longest prefix answers.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LocationsBenchmark {
    private static final String DEFAULTS = """
            web:
              locations:
                - path: /static/
                  root: public
                - path: = /favicon.ico
                  root: public
                - path: = /robots.txt
                  root: public
                - path: /
                  proxy: app
            """;
    private static final String NGINX_LIKE = """
            web:
              locations:
                - path: = /robots.txt
                  root: public
                - path: = /favicon.ico
                  root: public
                - path: ^~ /static/
                  root: public
                  cache-control: public, max-age=31536000, immutable
                - path: "~* \\\\.(png|jpe?g|gif|webp|svg|ico)$"
                  root: public
                - path: "~ ^/posts/([0-9]+)$"
                  redirect: /p/$1
                  status: 301
                - path: /
                  proxy: app
            """;

    @Param({"defaults", "nginx-like"})
    public String table;

    @Param({"/robots.txt", "/static/app.css", "/img/logo.png", "/posts/42", "/account/settings"})
    public String path;

    private Locations locations;
    private HttpRequest request;

    @Setup
    public void setUp() {
        WebConfig web = StackConfig.parse(Path.of("/srv/webstack/webstack.yml"), table.equals("defaults") ? DEFAULTS : NGINX_LIKE)
                .web();
        locations = new Locations(web.locations(), new MimeTypes(web.mimeTypes()));
        request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        request.headers().set("Host", "www.foobar.com");
    }

    @Benchmark
    public Location select() {
        return locations.select(request, path);
    }
}
