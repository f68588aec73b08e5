package dev.webstack.web;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's nginx as the peer of a differential test: one worker in the foreground, its files in a
 * folder of the test's, listening on a port of its own. Skips the test (an assumption) when nginx
 * is not installed; {@code .ci/run} installs it.
 */
final class TestNginx implements AutoCloseable {
    private static final Path NGINX = Path.of("/usr/sbin/nginx");

    private final Process process;
    private final int port;

    private TestNginx(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts nginx with {@code server}, a {@code server { ... }} block (or several) that may use
     * {@code %1$s} for {@code dir} and {@code %2$d} for the port it is to listen on, in its
     * {@code http} block; returns once it listens.
     */
    static TestNginx start(Path dir, String server) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(NGINX),
                "nginx is not installed (apt-get install nginx; .ci/run installs it): the differential test against nginx is skipped");
        // nginx's workers run as nobody when the test runs as root: the folders must be readable.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port = TestConfigs.closedPort();
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, ("""
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/nginx-error.log warn;
                events { worker_connections 64; }
                http {
                  access_log off;
                  client_body_temp_path %1$s/tmp-body; proxy_temp_path %1$s/tmp-proxy; fastcgi_temp_path %1$s/tmp-fastcgi;
                  uwsgi_temp_path %1$s/tmp-uwsgi; scgi_temp_path %1$s/tmp-scgi;
                  include /etc/nginx/mime.types;
                """ + server.indent(2) + "}\n").formatted(dir, port));
        Process process = new ProcessBuilder(NGINX.toString(), "-e", "stderr", "-p", dir.toString(), "-c", conf.toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
        TestNginx nginx = new TestNginx(process, port);
        nginx.awaitListening(dir);
        return nginx;
    }

    int port() {
        return port;
    }

    private void awaitListening(Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                new Socket(InetAddress.getLoopbackAddress(), port).close();
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("nginx.out")));
                }
                Thread.sleep(50);
            }
        }
        close();
        throw new IllegalStateException("nginx did not listen on " + port + ": " + Files.readString(dir.resolve("nginx.out")));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(5, TimeUnit.SECONDS);
    }
}
