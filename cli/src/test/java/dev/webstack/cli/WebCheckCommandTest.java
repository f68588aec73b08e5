package dev.webstack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code webstack web check}: the web config checked as the tier would load it (nginx -t), nothing served or written. */
class WebCheckCommandTest {
    @TempDir
    Path dir;
    private final InProcessCli cli = new InProcessCli();
    private final StringWriter out = cli.out;
    private final StringWriter err = cli.err;

    private int run(String... args) {
        return cli.run(args);
    }

    private Path config(String web) throws IOException {
        Files.createDirectories(dir.resolve("public"));
        return Files.writeString(dir.resolve("webstack.yml"), "web:\n  public: public\n" + web);
    }

    @Test
    void aConfigThatLoadsIsOkAndSaysWhatItServes() throws IOException {
        Files.writeString(dir.resolve("htpasswd"), "alice:{SHA}W8r/fyL/UzygmbNAjq2HbA67qac=\n");
        Path file = config("""
                  tls:
                    listen: 127.0.0.1:9443
                  locations:
                    - path: /admin/
                      proxy: app
                      auth-basic: Staff
                      auth-basic-user-file: htpasswd
                """);
        assertThat(run("web", "check", "--config", file.toString())).isZero();
        assertThat(out.toString()).contains("web: location /admin/ -> proxy app, auth-basic \"Staff\" " + dir.resolve("htpasswd"))
                .contains("web: https on 127.0.0.1:9443: a self-signed certificate is made at start")
                .contains("web: config " + file + " is ok");
        assertThat(dir.resolve("var/tls")).as("nothing written by a check").doesNotExist();
    }

    @Test
    void whatWouldNotLoadIsNamedWithItsFileAndReason() throws IOException {
        Files.writeString(dir.resolve("htpasswd"), "alice:abJnggxhB/yWI\n");
        Path file = config("""
                  locations:
                    - path: /admin/
                      proxy: app
                      auth-basic: Staff
                      auth-basic-user-file: htpasswd
                """);
        assertThat(run("web", "check", "--config", file.toString())).isEqualTo(1);
        assertThat(err.toString()).contains(dir.resolve("htpasswd") + ":1: the hash of alice is none of bcrypt");

        Path cert = Files.writeString(dir.resolve("site.crt"), "not a certificate\n");
        Path key = Files.writeString(dir.resolve("site.key"), "not a key\n");
        Path tls = config("  tls:\n    certificate: site.crt\n    key: site.key\n");
        assertThat(run("web", "check", "--config", tls.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("web.tls: certificate " + cert + ", key " + key);

        Path typo = config("  locations:\n    - path: /a/\n      proxy: app\n      alow: [10.0.0.0/8]\n");
        assertThat(run("web", "check", "--config", typo.toString())).as("a config error: file and line").isEqualTo(2);
        assertThat(err.toString()).contains(typo + ":6: web.locations[0].alow: unknown key");
    }
}
