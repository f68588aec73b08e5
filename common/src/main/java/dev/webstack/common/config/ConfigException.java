package dev.webstack.common.config;

import java.nio.file.Path;

/**
 * A configuration that cannot be used, with the place that is wrong: {@code file:line: key: reason},
 * in the style of dnsjava's {@code Tokenizer} errors. Nothing is started with a config that threw this.
 */
public final class ConfigException extends RuntimeException {
    private final Path file;
    private final int line;
    private final String key;
    private final String reason;

    public ConfigException(Path file, int line, String key, String reason) {
        super(format(file, line, key, reason));
        this.file = file;
        this.line = line;
        this.key = key;
        this.reason = reason;
    }

    private static String format(Path file, int line, String key, String reason) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<config>" : file.toString());
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (key != null && !key.isEmpty()) {
            sb.append(key).append(": ");
        }
        return sb.append(reason).toString();
    }

    public Path file() {
        return file;
    }

    /** 1-based line of the offending key or value, or 0 when the problem is not tied to a line. */
    public int line() {
        return line;
    }

    /** Dotted path of the offending key, e.g. {@code web.listen}. */
    public String key() {
        return key;
    }

    public String reason() {
        return reason;
    }
}
