package dev.webstack.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML value that remembers the file, line and dotted key it came from, so that every error about
 * it can say {@code webstack.yml:12: web.listen: reason}. Jackson's tree model drops locations; this
 * keeps them by building the tree straight from the parser's tokens.
 */
public final class ConfigNode {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private final Path file;
    private final String key;
    private final int line;
    private final Object value; // String, Map<String, ConfigNode>, List<ConfigNode> or null

    private ConfigNode(Path file, String key, int line, Object value) {
        this.file = file;
        this.key = key;
        this.line = line;
        this.value = value;
    }

    /** Parses a YAML document; an empty document is an empty mapping. */
    public static ConfigNode parse(Path file, String yaml) {
        try (JsonParser p = new YAMLFactory().createParser(yaml)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return new ConfigNode(file, "", 1, new LinkedHashMap<String, ConfigNode>());
            }
            ConfigNode root = read(file, "", p);
            if (!root.isMap()) {
                throw new ConfigException(file, root.line, "", "the top level must be a mapping of keys");
            }
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new ConfigException(file, loc == null ? 0 : loc.getLineNr(), "", "not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(file, 0, "", "cannot read: " + e.getMessage());
        }
    }

    private static ConfigNode read(Path file, String key, JsonParser p) throws IOException {
        int line = p.currentTokenLocation().getLineNr();
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, ConfigNode> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    int keyLine = p.currentTokenLocation().getLineNr();
                    String child = key.isEmpty() ? name : key + "." + name;
                    if (map.containsKey(name)) {
                        throw new ConfigException(file, keyLine, child, "duplicate key");
                    }
                    p.nextToken();
                    ConfigNode node = read(file, child, p);
                    // Errors about a value point at its key's line, which is where a reader looks.
                    map.put(name, new ConfigNode(file, child, keyLine, node.value));
                }
                return new ConfigNode(file, key, line, map);
            }
            case START_ARRAY -> {
                List<ConfigNode> list = new ArrayList<>();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(read(file, key + "[" + i++ + "]", p));
                }
                return new ConfigNode(file, key, line, list);
            }
            case VALUE_NULL -> {
                return new ConfigNode(file, key, line, null);
            }
            default -> {
                return new ConfigNode(file, key, line, p.getText());
            }
        }
    }

    public Path file() {
        return file;
    }

    public int line() {
        return line;
    }

    public String key() {
        return key;
    }

    public boolean isMap() {
        return value instanceof Map;
    }

    public boolean isList() {
        return value instanceof List;
    }

    /** An error about this node, pointing at its line. */
    public ConfigException error(String reason) {
        return new ConfigException(file, line, key, reason);
    }

    @SuppressWarnings("unchecked")
    private Map<String, ConfigNode> map() {
        if (!(value instanceof Map)) {
            throw error("expected a mapping of keys");
        }
        return (Map<String, ConfigNode>) value;
    }

    /** Rejects keys other than the given ones: a typo must not silently fall back to a default. */
    public ConfigNode allowOnly(String... keys) {
        Set<String> allowed = Set.of(keys);
        for (ConfigNode child : map().values()) {
            String name = child.key.substring(child.key.lastIndexOf('.') + 1);
            if (!allowed.contains(name)) {
                throw child.error("unknown key (expected one of: " + String.join(", ", keys) + ")");
            }
        }
        return this;
    }

    /** The child mapping, or an empty one at this node's line when absent. */
    public ConfigNode section(String name) {
        ConfigNode child = map().get(name);
        String childKey = key.isEmpty() ? name : key + "." + name;
        if (child == null || child.value == null) {
            return new ConfigNode(file, childKey, line, new LinkedHashMap<String, ConfigNode>());
        }
        child.map();
        return child;
    }

    /** The keys of this mapping and their values, in file order. */
    public Map<String, ConfigNode> children() {
        return Collections.unmodifiableMap(map());
    }

    public Optional<ConfigNode> child(String name) {
        ConfigNode child = map().get(name);
        return child == null || child.value == null ? Optional.empty() : Optional.of(child);
    }

    public List<ConfigNode> list(String name) {
        Optional<ConfigNode> child = child(name);
        if (child.isEmpty()) {
            return List.of();
        }
        if (!(child.get().value instanceof List<?> l)) {
            throw child.get().error("expected a list");
        }
        List<ConfigNode> out = new ArrayList<>();
        for (Object o : l) {
            out.add((ConfigNode) o);
        }
        return Collections.unmodifiableList(out);
    }

    /** This node's scalar text. */
    public String text() {
        if (!(value instanceof String s)) {
            throw error(value == null ? "missing value" : "expected a single value, not a " + (isMap() ? "mapping" : "list"));
        }
        return s;
    }

    /**
     * The file this node names, relative to {@code base}; an error at its line unless it is a
     * readable file, so that a wrong path is reported when the config is read, not when it is used.
     */
    public Path readableFile(Path base) {
        Path file = base.resolve(text().trim()).normalize();
        if (!Files.isReadable(file) || Files.isDirectory(file)) {
            throw error(file + ": no such readable file");
        }
        return file;
    }

    public String string(String name, String def) {
        return child(name).map(ConfigNode::text).orElse(def);
    }

    public Optional<String> optionalString(String name) {
        return child(name).map(ConfigNode::text).filter(s -> !s.isBlank());
    }

    public int integer(String name, int def, int min, int max) {
        Optional<ConfigNode> child = child(name);
        if (child.isEmpty()) {
            return def;
        }
        String s = child.get().text().trim();
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw child.get().error("'" + s + "' is not a whole number");
        }
        if (v < min || v > max) {
            throw child.get().error(v + " is out of range (expected: " + min + "-" + max + ")");
        }
        return v;
    }

    public boolean bool(String name, boolean def) {
        Optional<ConfigNode> child = child(name);
        if (child.isEmpty()) {
            return def;
        }
        return switchValue(child.get().text())
                .orElseThrow(() -> child.get().error("'" + child.get().text() + "' is not true or false"));
    }

    /** A switch's value: {@code true}, {@code yes} or {@code on}; {@code false}, {@code no} or {@code off}; in any case. */
    static Optional<Boolean> switchValue(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> Optional.of(true);
            case "false", "no", "off" -> Optional.of(false);
            default -> Optional.empty();
        };
    }

    public HostPort hostPort(String name, String def) {
        ConfigNode node = child(name).orElse(null);
        String s = node == null ? def : node.text();
        try {
            return HostPort.parse(s);
        } catch (IllegalArgumentException e) {
            throw node == null ? error(e.getMessage()) : node.error(e.getMessage());
        }
    }

    /**
     * One {@code host:port}, or a list of them (each at most once); {@code def} when the key is
     * absent.
     */
    public List<HostPort> hostPorts(String name, String def) {
        Optional<ConfigNode> child = child(name);
        if (child.isEmpty() || !(child.get().value instanceof List<?>)) {
            return List.of(hostPort(name, def));
        }
        List<ConfigNode> entries = list(name);
        if (entries.isEmpty()) {
            throw child.get().error("an empty list (expected: one host:port or more)");
        }
        List<HostPort> out = new ArrayList<>();
        for (ConfigNode entry : entries) {
            HostPort address;
            try {
                address = HostPort.parse(entry.text());
            } catch (IllegalArgumentException e) {
                throw entry.error(e.getMessage());
            }
            if (out.contains(address)) {
                throw entry.error(address + " is listed twice");
            }
            out.add(address);
        }
        return List.copyOf(out);
    }

    /** A duration such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 365d}; {@code 0} needs no unit. */
    public Duration duration(String name, Duration def) {
        Optional<ConfigNode> child = child(name);
        if (child.isEmpty()) {
            return def;
        }
        if (child.get().text().trim().equals("0")) {
            return Duration.ZERO; // as the shipped webstack.yml writes "0 turns ... off"
        }
        Matcher m = DURATION.matcher(child.get().text().trim());
        if (!m.matches()) {
            throw child.get().error("'" + child.get().text() + "' is not a duration (expected e.g. 500ms, 30s, 5m, 1h, 365d)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    public <E extends Enum<E>> E enumValue(String name, E def) {
        Optional<ConfigNode> child = child(name);
        if (child.isEmpty()) {
            return def;
        }
        String s = child.get().text().trim();
        // Config spells constants in lower case with dashes: round-robin for ROUND_ROBIN.
        for (E e : def.getDeclaringClass().getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s.replace('-', '_'))) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : def.getDeclaringClass().getEnumConstants()) {
            names.add(e.name().toLowerCase().replace('_', '-'));
        }
        throw child.get().error("'" + s + "' (expected one of: " + String.join(", ", names) + ")");
    }
}
