package dev.webstack.cli;

import dev.webstack.common.config.StackConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --config} option every command shares. Without it, {@code webstack.yml} in the current
 * folder is used, else the one beside the {@code webstack} launcher ({@code WEBSTACK_HOME}).
 */
public final class ConfigOption {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "The stack's config file (default: ./webstack.yml, else the one beside the launcher).")
    Path file;

    public Path path() {
        if (file != null) {
            return file;
        }
        Path here = Path.of(StackConfig.DEFAULT_FILE);
        String home = System.getenv("WEBSTACK_HOME");
        if (!Files.exists(here) && home != null && !home.isBlank()) {
            return Path.of(home, StackConfig.DEFAULT_FILE);
        }
        return here;
    }

    public StackConfig load() {
        return StackConfig.load(path());
    }
}
