package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of the public folder as the static handler sees them: where each request path leads,
 * its validators and its precomputed headers, and for small files the bytes themselves, so that
 * a hot small file costs no file system call at all (like nginx's {@code open_file_cache}).
 *
 * <ul>
 *   <li>Which file: the segments (already checked by {@link RequestPaths#safeSegments}) under the
 *       real path of the root, resolved again at each check so that a deploy may swap the root by
 *       a symbolic link; the real path of the file must lie inside it and be a regular file.</li>
 *   <li>An entry is trusted for {@code revalidateAfter} (default {@link #REVALIDATE_AFTER}, 1 s);
 *       the next request after that resolves the path and compares size and modification time
 *       again, and a changed file is read again (a missing one is dropped).</li>
 *   <li>An in-memory file of a compressible type ({@link MimeTypes#compressible}) of at least
 *       {@value #GZIP_FROM_BYTES} bytes also keeps a gzip-compressed copy, made once per version of
 *       the file (gzip "on the fly", but not per request). A larger compressible file, up to
 *       {@value #GZIP_MAX_BYTES} bytes, keeps only its gzip copy in memory: the identity is sent
 *       from the disk, the compressed one from memory. Larger ones, and those whose copy does not
 *       fit the budget, are compressed while they are sent ({@link GzipFileStream}).</li>
 *   <li>A path that names no file is remembered as such for the same time (at most
 *       {@value #MAX_ABSENT} paths), like {@code open_file_cache_errors}, together with whether it
 *       names a directory inside the root ({@link #isDirectory}), so that neither a 404 nor the
 *       redirect of a directory costs a file system call while the entry holds.</li>
 *   <li>Kept in memory: files of at most {@value #MAX_FILE_BYTES} bytes, at most
 *       {@value #MAX_TOTAL_BYTES} bytes in all. Larger files are sent zero-copy from the disk; their
 *       entries (validators and headers, no bytes) are kept like the others, for up to
 *       {@value #MAX_LARGE_ENTRIES} such files, so that one costs an open(2) per request. Small
 *       files beyond the memory budget are resolved and stat'ed per request.</li>
 * </ul>
 * Shared by every event loop: the map is concurrent and an entry is immutable.
 */
final class FileCache {
    static final int MAX_FILE_BYTES = 64 * 1024;
    static final long MAX_TOTAL_BYTES = 64L * 1024 * 1024;
    static final Duration REVALIDATE_AFTER = Duration.ofSeconds(1);
    /** Most paths remembered as missing; beyond, a miss is checked each time. */
    static final int MAX_ABSENT = 10_000;
    static final int MAX_LARGE_ENTRIES = 10_000;
    /** In-memory files of a compressible type from this size on also keep a gzip-compressed copy. */
    static final int GZIP_FROM_BYTES = 1024;
    /** Compressible files larger than {@link #MAX_FILE_BYTES} keep a gzip copy up to this size. */
    static final int GZIP_MAX_BYTES = 4 * 1024 * 1024;
    private static final Logger log = LoggerFactory.getLogger(FileCache.class);

    /**
     * What a request path leads to. {@code body} holds the whole file when {@code inMemory}, an
     * unreleasable buffer to be sent as {@code body.duplicate()}; else the file is read from
     * {@code path}. {@code headers} are those of a full 200 answer; {@code head} is that answer's
     * status line and headers as they go on the wire over HTTP/1.x ({@link FileResponse}), kept for a
     * file in memory (else null).
     */
    record StaticFile(Path path, long size, long mtimeMillis, String etag, String lastModified,
                      HttpHeaders headers, boolean inMemory, ByteBuf body, long checkedAt, Optional<StaticFile> gzipped,
                      byte[] head) {

        /** A file with its {@code head} encoded from {@code headers} when it is held in memory. */
        StaticFile(Path path, long size, long mtimeMillis, String etag, String lastModified,
                   HttpHeaders headers, boolean inMemory, ByteBuf body, long checkedAt, Optional<StaticFile> gzipped) {
            this(path, size, mtimeMillis, etag, lastModified, headers, inMemory, body, checkedAt, gzipped,
                    inMemory ? FileResponse.head(headers) : null);
        }

        long mtimeSeconds() {
            return mtimeMillis / 1_000;
        }

        /**
         * Too large to hold and without a gzip copy in memory, but of a compressible type: sent
         * gzip-compressed while it is read ({@link GzipFileStream}) to clients that accept gzip.
         */
        boolean gzipWhileSending() {
            // The plain fields first: an in-memory file (the hot case) looks up no header.
            if (inMemory || gzipped.isPresent() || size <= MAX_FILE_BYTES) {
                return false;
            }
            String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
            return type != null && MimeTypes.compressible(type) && !headers.contains(HttpHeaderNames.CONTENT_ENCODING);
        }

        StaticFile checkedAt(long nanos) {
            return new StaticFile(path, size, mtimeMillis, etag, lastModified, headers, inMemory, body, nanos, gzipped, head);
        }

        /**
         * This file (a precompressed sibling such as {@code app.css.br}) as the {@code encoding} of
         * {@code original}: the original's type, {@code Content-Encoding} and {@code Vary} set
         * (and, in memory, its head encoded: {@link StaticFiles} keeps what this makes).
         */
        StaticFile asEncodingOf(StaticFile original, String encoding) {
            HttpHeaders h = new DefaultHttpHeaders(false).set(headers)
                    .set(HttpHeaderNames.CONTENT_TYPE, original.headers().get(HttpHeaderNames.CONTENT_TYPE))
                    .set(HttpHeaderNames.CONTENT_ENCODING, encoding)
                    .set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
            return new StaticFile(path, size, mtimeMillis, etag, lastModified, h, inMemory, body, checkedAt, Optional.empty());
        }
    }

    private final Path root;
    private final HttpHeaders answerHeaders; // Cache-Control, then the location's headers
    private final MimeTypes mimeTypes;
    private final long revalidateNanos;
    private final ConcurrentHashMap<String, StaticFile> entries = new ConcurrentHashMap<>();
    // Entries of files above MAX_FILE_BYTES (their bytes stay on the disk).
    private final AtomicLong largeEntries = new AtomicLong();
    private final AtomicLong totalBytes = new AtomicLong();
    // Paths known to name no file, with when that was checked: a miss (404, or a missing .br/.gz
    // sibling) costs no file system call either until it is due again.
    private final ConcurrentHashMap<String, Miss> absent = new ConcurrentHashMap<>();
    private volatile RealRoot realRoot;

    private record RealRoot(Path path, long checkedAt) {}

    /** A path that names no regular file, checked at {@code checkedAt}; {@code directory} when it names a folder inside the root. */
    private record Miss(long checkedAt, boolean directory) {}

    /**
     * @param root         the folder the files are under
     * @param cacheControl the Cache-Control header of its answers
     * @param headers      more headers of its answers (a location's {@code headers}), in order
     * @param mimeTypes    the Content-Type of each file
     */
    FileCache(Path root, String cacheControl, Map<String, String> headers, MimeTypes mimeTypes, Duration revalidateAfter) {
        this.root = root;
        this.answerHeaders = new DefaultHttpHeaders(false).set(HttpHeaderNames.CACHE_CONTROL, AsciiString.of(cacheControl));
        headers.forEach((name, value) -> answerHeaders.set(AsciiString.of(name), AsciiString.of(value)));
        this.mimeTypes = mimeTypes;
        this.revalidateNanos = revalidateAfter.toNanos();
    }

    FileCache(Path root, Duration revalidateAfter) {
        this(root, LocationConfig.DEFAULT_CACHE_CONTROL, Map.of(), MimeTypes.BUILT_IN, revalidateAfter);
    }

    FileCache(Path root) {
        this(root, REVALIDATE_AFTER);
    }

    /** The headers every answer from this folder carries, 304s too: Cache-Control and the location's own. */
    HttpHeaders answerHeaders() {
        return answerHeaders;
    }

    /**
     * The file {@code key} (the raw request path) names, given its safe {@code segments}; empty when
     * there is no regular file inside the root there.
     */
    Optional<StaticFile> lookup(String key, List<String> segments) {
        StaticFile known = entries.get(key);
        long now = System.nanoTime();
        if (known != null && now - known.checkedAt() < revalidateNanos) {
            return Optional.of(known);
        }
        Miss missing = known == null ? absent.get(key) : null;
        if (missing != null && now - missing.checkedAt() < revalidateNanos) {
            return Optional.empty();
        }
        Optional<Path> real = resolve(segments);
        BasicFileAttributes attrs;
        try {
            attrs = real.isPresent() ? Files.readAttributes(real.get(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS) : null;
        } catch (IOException e) {
            attrs = null;
        }
        if (attrs == null || !attrs.isRegularFile()) {
            if (known != null) {
                forget(key, known);
            }
            if (absent.size() < MAX_ABSENT) {
                absent.put(key, new Miss(now, attrs != null && attrs.isDirectory()));
            }
            return Optional.empty();
        }
        if (missing != null) {
            absent.remove(key);
        }
        long mtime = attrs.lastModifiedTime().toMillis();
        if (known != null && known.path().equals(real.get()) && known.size() == attrs.size() && known.mtimeMillis() == mtime) {
            StaticFile fresh = known.checkedAt(now);
            entries.replace(key, known, fresh);
            return Optional.of(fresh);
        }
        StaticFile loaded = load(real.get(), attrs.size(), mtime, now);
        if (known != null) {
            forget(key, known);
        }
        // Large compressible files are kept too, with or without their gzip copy: compressing is
        // tried once per version of the file, not per request.
        // And so are the validators and headers of a file too large to hold (up to MAX_LARGE_ENTRIES
        // of them), so that it costs one open(2) per request, not a path resolution and a stat.
        if (heldBytes(loaded) > 0 || gzipCandidate(loaded.size(), loaded.headers().get(HttpHeaderNames.CONTENT_TYPE))
                || (loaded.size() > MAX_FILE_BYTES && largeEntries.get() < MAX_LARGE_ENTRIES)) {
            if (entries.putIfAbsent(key, loaded) != null) {
                totalBytes.addAndGet(-heldBytes(loaded));
            } else if (loaded.size() > MAX_FILE_BYTES) {
                largeEntries.incrementAndGet();
            }
        }
        return Optional.of(loaded);
    }

    /**
     * Whether {@code key} (a raw path {@link #lookup} found no file at) names a directory whose real
     * path lies inside the root: answered from the miss {@code lookup} just remembered, else from the
     * disk (the table of misses is full, or the entry is due).
     */
    boolean isDirectory(String key, List<String> segments) {
        Miss miss = absent.get(key);
        if (miss != null && System.nanoTime() - miss.checkedAt() < revalidateNanos) {
            return miss.directory();
        }
        return directory(segments).isPresent();
    }

    /** The real path of the folder {@code segments} name inside the root; empty for none (or one reached through a link out of it). */
    Optional<Path> directory(List<String> segments) {
        return resolve(segments).filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
    }

    /** The real path of the root, as {@link #resolve} checks against. */
    Path rootPath() throws IOException {
        return realRoot();
    }

    /** Bytes held in memory now. */
    long bytesInMemory() {
        return totalBytes.get();
    }

    private void forget(String key, StaticFile known) {
        if (entries.remove(key, known)) {
            totalBytes.addAndGet(-heldBytes(known));
            if (known.size() > MAX_FILE_BYTES) {
                largeEntries.decrementAndGet();
            }
        }
    }

    /** What an entry counts against {@link #MAX_TOTAL_BYTES}: its bytes in memory, identity and gzip copy. */
    private static long heldBytes(StaticFile f) {
        return (f.inMemory() ? f.size() : 0) + f.gzipped().map(StaticFile::size).orElse(0L);
    }

    /** Too large to hold, small enough to keep a gzip copy of. */
    private static boolean gzipCandidate(long size, String type) {
        return size > MAX_FILE_BYTES && size <= GZIP_MAX_BYTES && type != null && MimeTypes.compressible(type);
    }

    private StaticFile load(Path file, long size, long mtime, long now) {
        String etag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(mtime) + "\"";
        String lastModified = DateFormatter.format(new Date(mtime / 1_000 * 1_000));
        String type = mimeTypes.of(file.getFileName().toString());
        // AsciiString values: the response encoder copies them as bytes instead of char by char.
        HttpHeaders headers = new DefaultHttpHeaders(false)
                .set(HttpHeaderNames.CONTENT_TYPE, AsciiString.of(type))
                .set(HttpHeaderNames.CONTENT_LENGTH, AsciiString.of(Long.toString(size)))
                .set(HttpHeaderNames.LAST_MODIFIED, AsciiString.of(lastModified))
                .set(HttpHeaderNames.ETAG, AsciiString.of(etag))
                .set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES)
                .add(answerHeaders);
        if (size <= MAX_FILE_BYTES && totalBytes.addAndGet(size) <= MAX_TOTAL_BYTES) {
            try {
                byte[] bytes = Files.readAllBytes(file);
                // A file being rewritten right now: serve it from the disk until it settles.
                if (bytes.length == size) {
                    boolean compressible = MimeTypes.compressible(type);
                    if (compressible) {
                        headers.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
                    }
                    Optional<StaticFile> gzipped = compressible && size >= GZIP_FROM_BYTES
                            ? gzip(file, bytes, etag, lastModified, headers, mtime, now)
                            : Optional.empty();
                    return new StaticFile(file, size, mtime, etag, lastModified, headers, true, memory(bytes), now, gzipped);
                }
            } catch (IOException e) {
                log.debug("static {}: {}", file, e.toString());
            }
            totalBytes.addAndGet(-size);
        } else if (size <= MAX_FILE_BYTES) {
            totalBytes.addAndGet(-size);
        } else if (MimeTypes.compressible(type)) {
            // A gzip copy in memory (below), else compressed while it is sent: it varies either way.
            headers.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
            // Read the file only when its copy may fit (gzip makes text 3-10x smaller).
            if (gzipCandidate(size, type) && totalBytes.get() + size / 3 <= MAX_TOTAL_BYTES) {
                try {
                    byte[] bytes = Files.readAllBytes(file);
                    if (bytes.length == size) {
                        return new StaticFile(file, size, mtime, etag, lastModified, headers, false, Unpooled.EMPTY_BUFFER,
                                now, gzip(file, bytes, etag, lastModified, headers, mtime, now));
                    }
                } catch (IOException e) {
                    log.debug("static {}: {}", file, e.toString());
                }
            }
        }
        return new StaticFile(file, size, mtime, etag, lastModified, headers, false, Unpooled.EMPTY_BUFFER, now, Optional.empty());
    }

    /** The gzip-compressed copy of a file's {@code bytes}, counted in the budget; none when it would not be smaller. */
    private Optional<StaticFile> gzip(Path file, byte[] bytes, String etag, String lastModified, HttpHeaders identity,
                                      long mtime, long now) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 2);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            return Optional.empty();
        }
        byte[] packed = out.toByteArray();
        if (packed.length >= bytes.length || totalBytes.addAndGet(packed.length) > MAX_TOTAL_BYTES) {
            if (packed.length < bytes.length) {
                totalBytes.addAndGet(-packed.length);
            }
            return Optional.empty();
        }
        // A strong validator per representation (RFC 9110 section 8.8.3).
        String gzEtag = etag.substring(0, etag.length() - 1) + "-gz\"";
        HttpHeaders h = new DefaultHttpHeaders(false).set(identity)
                .set(HttpHeaderNames.CONTENT_LENGTH, packed.length)
                .set(HttpHeaderNames.CONTENT_ENCODING, HttpHeaderValues.GZIP)
                .set(HttpHeaderNames.ETAG, gzEtag);
        return Optional.of(new StaticFile(file, packed.length, mtime, gzEtag, lastModified, h, true, memory(packed), now,
                Optional.empty()));
    }

    /**
     * Bytes to send many times: direct memory (the socket write needs no copy into it), owned by
     * the JDK's ByteBuffer so that the garbage collector frees it once the last response that uses
     * it is written; unreleasable, so that no response can free it for the others.
     */
    private static ByteBuf memory(byte[] bytes) {
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct));
    }

    /** The real path of the root, resolved again at most every {@code revalidateAfter}. */
    private Path realRoot() throws IOException {
        long now = System.nanoTime();
        RealRoot known = realRoot;
        if (known == null || now - known.checkedAt() >= revalidateNanos) {
            known = new RealRoot(root.toRealPath(), now);
            realRoot = known;
        }
        return known.path();
    }

    /** The real path safe segments name, when there is one inside the root (a file, a directory or anything else). */
    private Optional<Path> resolve(List<String> segments) {
        try {
            Path realRoot = realRoot();
            Path p = realRoot;
            for (String s : segments) {
                p = p.resolve(s);
            }
            // Belt and braces: the segments are plain names, so this holds before links are resolved.
            if (!p.normalize().startsWith(realRoot)) {
                return Optional.empty();
            }
            // One stat answers the common miss (404) before the costlier real path resolution.
            Files.readAttributes(p, BasicFileAttributes.class);
            Path real = p.toRealPath();
            if (!real.startsWith(realRoot)) {
                log.debug("static: {} leads outside the root to {}", p, real);
                return Optional.empty();
            }
            return Optional.of(real);
        } catch (IOException | InvalidPathException e) {
            return Optional.empty();
        }
    }
}
