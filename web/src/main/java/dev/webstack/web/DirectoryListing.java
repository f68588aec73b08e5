package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * A folder's listing, for a root location with {@code autoindex} (nginx's {@code autoindex on},
 * {@code autoindex_format html} or {@code json}): folders first, then files, each group by name
 * (byte order, as nginx sorts). Names starting with a dot are left out, as nginx does, and so is
 * anything whose real path lies outside the location's root (a link out of it), which the web
 * tier would not serve anyway. The HTML page has nginx's layout: the name padded to 50 columns
 * (longer ones cut, ending in {@code ..>}), the modification time in UTC and the size in bytes
 * ({@code -} for a folder); names are percent-encoded in links and HTML-escaped in text.
 */
final class DirectoryListing {
    private static final int NAME_COLUMNS = 50;
    private static final HexFormat UPPER_HEX = HexFormat.of().withUpperCase(); // JSON's escapes of control characters (upper case, as nginx)
    private static final DateTimeFormatter HTML_TIME = DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm", Locale.US)
            .withZone(ZoneOffset.UTC);

    private record Entry(String name, boolean folder, long size, long mtimeMillis) {}

    private DirectoryListing() {}

    /**
     * The listing of {@code folder} (a real path inside {@code root}) as {@code format} says, for
     * the request path {@code path} (decoded, ending in '/'); {@code head}: the headers alone.
     */
    static FullHttpResponse of(ByteBufAllocator alloc, Path root, Path folder, String path, LocationConfig.AutoIndex format,
                               boolean head) throws IOException {
        List<Entry> entries = entries(root, folder);
        String body;
        String type;
        if (format == LocationConfig.AutoIndex.JSON) {
            body = json(entries);
            type = "application/json";
        } else {
            body = html(entries, path);
            type = "text/html; charset=utf-8";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ByteBuf content = head ? alloc.buffer(0) : alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, content);
        res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        return res;
    }

    private static List<Entry> entries(Path root, Path folder) throws IOException {
        List<Entry> out = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder)) {
            for (Path p : stream) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                try {
                    Path real = p.toRealPath();
                    if (!real.startsWith(root)) {
                        continue;
                    }
                    BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isDirectory() || a.isRegularFile()) {
                        out.add(new Entry(name, a.isDirectory(), a.size(), a.lastModifiedTime().toMillis()));
                    }
                } catch (IOException e) {
                    // Gone since it was listed, or a dangling link: not listed.
                }
            }
        }
        out.sort(Comparator.comparing((Entry e) -> !e.folder())
                .thenComparing(e -> e.name().getBytes(StandardCharsets.UTF_8), java.util.Arrays::compareUnsigned));
        return out;
    }

    private static String html(List<Entry> entries, String path) {
        String title = "Index of " + Responses.escape(path);
        StringBuilder sb = new StringBuilder(256 + entries.size() * 120)
                .append("<html>\r\n<head><title>").append(title).append("</title></head>\r\n<body>\r\n<h1>").append(title)
                .append("</h1><hr><pre><a href=\"../\">../</a>\r\n");
        for (Entry e : entries) {
            String name = e.folder() ? e.name() + "/" : e.name();
            String shown = name.length() > NAME_COLUMNS ? name.substring(0, NAME_COLUMNS - 3) + "..>" : name;
            sb.append("<a href=\"").append(href(name)).append("\">").append(Responses.escape(shown)).append("</a>");
            sb.append(" ".repeat(Math.max(1, NAME_COLUMNS + 1 - shown.length())));
            sb.append(HTML_TIME.format(Instant.ofEpochMilli(e.mtimeMillis())));
            String size = e.folder() ? "-" : Long.toString(e.size());
            sb.append(" ".repeat(Math.max(1, 20 - size.length()))).append(size).append("\r\n");
        }
        return sb.append("</pre><hr></body>\r\n</html>\r\n").toString();
    }

    /** nginx's {@code autoindex_format json}: name, type, mtime (an HTTP date) and, for files, size. */
    private static String json(List<Entry> entries) {
        StringBuilder sb = new StringBuilder("[\r\n");
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            sb.append("{ \"name\":\"");
            jsonString(sb, e.name());
            sb.append("\", \"type\":\"").append(e.folder() ? "directory" : "file").append("\", \"mtime\":\"")
                    .append(DateFormatter.format(new Date(e.mtimeMillis()))).append('"');
            if (!e.folder()) {
                sb.append(", \"size\":").append(e.size());
            }
            sb.append(" }").append(i + 1 < entries.size() ? ",\r\n" : "\r\n");
        }
        return sb.append("]").toString(); // no line break after it, as nginx
    }

    /**
     * A name inside a JSON string as nginx's {@code ngx_escape_json} writes it (the escaping of
     * {@link LogLine#json}, there on bytes of a request, here on a name's characters): {@code "}
     * and {@code \\} after a backslash, {@code \\n} {@code \\r} {@code \\t} {@code \\b} {@code \\f},
     * other control characters as {@code \\u001F}, everything else as it is.
     */
    private static void jsonString(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                switch (c) {
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> sb.append("\\u00").append(UPPER_HEX.toHexDigits((byte) c));
                }
            } else {
                sb.append(c);
            }
        }
    }

    /** A name as a relative link: every byte but unreserved characters and '/' percent-encoded (a ':' could read as a scheme). */
    static String href(String name) {
        StringBuilder sb = new StringBuilder(name.length() + 8);
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
                    || c == '~' || c == '/') {
                sb.append((char) c);
            } else {
                RequestPaths.appendPercentEncoded(sb, c);
            }
        }
        return sb.toString();
    }
}
