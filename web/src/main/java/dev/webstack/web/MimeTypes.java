package dev.webstack.web;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Content-Type by file extension: a built-in table (text types carry {@code charset=utf-8}) with the
 * entries of {@code web.mime-types} added or overriding, like nginx's {@code types} block. An
 * extension in neither is {@value #DEFAULT}. Immutable; asked once per file version by {@link FileCache}.
 */
final class MimeTypes {
    static final String DEFAULT = "application/octet-stream";

    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("json", "application/json; charset=utf-8"),
            Map.entry("map", "application/json; charset=utf-8"),
            Map.entry("webmanifest", "application/manifest+json; charset=utf-8"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("csv", "text/csv; charset=utf-8"),
            Map.entry("md", "text/markdown; charset=utf-8"),
            Map.entry("xml", "application/xml; charset=utf-8"),
            Map.entry("svg", "image/svg+xml; charset=utf-8"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("webp", "image/webp"),
            Map.entry("avif", "image/avif"),
            Map.entry("ico", "image/vnd.microsoft.icon"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("ttf", "font/ttf"),
            Map.entry("otf", "font/otf"),
            Map.entry("wasm", "application/wasm"),
            Map.entry("pdf", "application/pdf"),
            Map.entry("zip", "application/zip"),
            Map.entry("gz", "application/gzip"),
            Map.entry("mp4", "video/mp4"),
            Map.entry("webm", "video/webm"),
            Map.entry("mp3", "audio/mpeg"));
    /** The built-in table alone. Declared after it: class initialisation runs in this order. */
    static final MimeTypes BUILT_IN = new MimeTypes(Map.of());

    private final Map<String, String> types;

    /** The built-in table with {@code overrides} (lower-case extension without the dot → type) on top. */
    MimeTypes(Map<String, String> overrides) {
        Map<String, String> all = new HashMap<>(TYPES);
        all.putAll(overrides);
        types = Map.copyOf(all);
    }

    /** Whether a type is worth compressing: text, JSON, XML, SVG, JavaScript. */
    static boolean compressible(String type) {
        return type.startsWith("text/") || type.startsWith("application/json") || type.startsWith("application/manifest+json")
                || type.startsWith("application/xml") || type.startsWith("image/svg+xml") || type.startsWith("application/wasm");
    }

    /** The type of a file by the extension of its name. */
    String of(String fileName) {
        int dot = fileName.lastIndexOf('.');
        if (dot < 0 || dot == fileName.length() - 1) {
            return DEFAULT;
        }
        return types.getOrDefault(fileName.substring(dot + 1).toLowerCase(Locale.ROOT), DEFAULT);
    }
}
