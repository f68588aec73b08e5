package dev.webstack.common.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The whole stack as {@code webstack.yml} describes it. Immutable; paths in it are absolute,
 * resolved against the folder holding the file. Parsing either yields a complete, valid config
 * or throws {@link ConfigException} naming the file, line, key and reason.
 *
 * @param file   the file it was read from
 * @param home   the folder relative paths are resolved against
 * @param varDir runtime state: logs, data, secrets, pid files; default {@code var/}
 */
public record StackConfig(
        Path file,
        Path home,
        Path varDir,
        SiteConfig site,
        DnsConfig dns,
        WebConfig web,
        AppConfig app,
        DbConfig db) {

    public static final String DEFAULT_FILE = "webstack.yml";

    public static StackConfig load(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        String text;
        try {
            text = Files.readString(abs);
        } catch (IOException e) {
            throw new ConfigException(abs, 0, "", "cannot read: " + e);
        }
        return parse(abs, text);
    }

    public static StackConfig parse(Path file, String yaml) {
        Path abs = file.toAbsolutePath().normalize();
        Path home = abs.getParent();
        ConfigNode root = ConfigNode.parse(abs, yaml);
        root.allowOnly("var", "site", "dns", "web", "app", "db");
        Path varDir = home.resolve(root.string("var", "var")).normalize();
        SiteConfig site = SiteConfig.from(root.section("site"));
        return new StackConfig(
                abs,
                home,
                varDir,
                site,
                DnsConfig.from(root.section("dns"), home),
                WebConfig.from(root.section("web"), home, varDir, site),
                AppConfig.from(root.section("app"), home),
                DbConfig.from(root.section("db"), home, varDir));
    }

    public Path logDir() {
        return varDir.resolve("log");
    }

    public Path runDir() {
        return varDir.resolve("run");
    }
}
