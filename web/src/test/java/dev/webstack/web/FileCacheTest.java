package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCacheTest {
    @TempDir
    Path root;

    private static String text(ByteBuf body) {
        return body.toString(body.readerIndex(), body.readableBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void smallFilesAreHeldInMemoryWithTheirHeaders() throws IOException {
        Files.writeString(root.resolve("a.html"), "<p>a</p>");
        FileCache.StaticFile f = new FileCache(root).lookup("/a.html", List.of("a.html")).orElseThrow();
        assertThat(f.inMemory()).isTrue();
        assertThat(text(f.body())).isEqualTo("<p>a</p>");
        assertThat(f.headers().get("content-length")).isEqualTo("8");
        assertThat(f.headers().get("content-type")).startsWith("text/html");
        assertThat(f.headers().get("etag")).isEqualTo(f.etag());
    }

    @Test
    void aChangedFileIsReadAgainOnceTheEntryIsDue() throws IOException {
        Path file = root.resolve("a.txt");
        Files.writeString(file, "first");
        FileCache cache = new FileCache(root, Duration.ZERO);
        FileCache.StaticFile before = cache.lookup("/a.txt", List.of("a.txt")).orElseThrow();
        Files.writeString(file, "second version");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        FileCache.StaticFile after = cache.lookup("/a.txt", List.of("a.txt")).orElseThrow();
        assertThat(text(after.body())).isEqualTo("second version");
        assertThat(after.etag()).isNotEqualTo(before.etag());
        assertThat(cache.bytesInMemory()).isEqualTo("second version".length());
    }

    @Test
    void aRemovedFileIsGoneOnceTheEntryIsDue() throws IOException {
        Path file = root.resolve("a.txt");
        Files.writeString(file, "here");
        FileCache cache = new FileCache(root, Duration.ZERO);
        assertThat(cache.lookup("/a.txt", List.of("a.txt"))).isPresent();
        Files.delete(file);
        assertThat(cache.lookup("/a.txt", List.of("a.txt"))).isEmpty();
        assertThat(cache.bytesInMemory()).isZero();
    }

    @Test
    void largeFilesAreNotHeldInMemory() throws IOException {
        Files.write(root.resolve("big.bin"), new byte[FileCache.MAX_FILE_BYTES + 1]);
        FileCache.StaticFile f = new FileCache(root).lookup("/big.bin", List.of("big.bin")).orElseThrow();
        assertThat(f.inMemory()).isFalse();
        assertThat(f.size()).isEqualTo(FileCache.MAX_FILE_BYTES + 1);
    }

    @Test
    void aLargeFileKeepsItsEntryWithoutItsBytes_untilItChanges() throws IOException {
        Path file = root.resolve("big.bin");
        Files.write(file, new byte[FileCache.MAX_FILE_BYTES + 1]);
        FileCache cache = new FileCache(root);
        FileCache.StaticFile first = cache.lookup("/big.bin", List.of("big.bin")).orElseThrow();
        // The same entry while it holds: no path resolution, no stat.
        assertThat(cache.lookup("/big.bin", List.of("big.bin")).orElseThrow()).isSameAs(first);
        assertThat(cache.bytesInMemory()).isZero();

        FileCache due = new FileCache(root, Duration.ZERO);
        FileCache.StaticFile before = due.lookup("/big.bin", List.of("big.bin")).orElseThrow();
        Files.write(file, new byte[FileCache.MAX_FILE_BYTES + 2]);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        FileCache.StaticFile after = due.lookup("/big.bin", List.of("big.bin")).orElseThrow();
        assertThat(after.size()).isEqualTo(FileCache.MAX_FILE_BYTES + 2);
        assertThat(after.etag()).isNotEqualTo(before.etag());
        Files.delete(file);
        assertThat(due.lookup("/big.bin", List.of("big.bin"))).isEmpty();
    }

    @Test
    void aLargeTextFileKeepsOnlyItsGzipCopyInMemory_andGivesItsBytesBackWhenDeleted() throws IOException {
        Path file = root.resolve("big.css");
        Files.writeString(file, "body { margin: 0; }\n".repeat(FileCache.MAX_FILE_BYTES / 10));
        FileCache cache = new FileCache(root, Duration.ZERO);
        FileCache.StaticFile f = cache.lookup("/big.css", List.of("big.css")).orElseThrow();
        assertThat(f.inMemory()).isFalse();
        FileCache.StaticFile gz = f.gzipped().orElseThrow();
        assertThat(gz.inMemory()).isTrue();
        assertThat(cache.bytesInMemory()).isEqualTo(gz.size()).isLessThan(f.size() / 10);
        assertThat(cache.lookup("/big.css", List.of("big.css")).orElseThrow().gzipped()).as("compressed once").containsSame(gz);

        Files.delete(file);
        assertThat(cache.lookup("/big.css", List.of("big.css"))).isEmpty();
        assertThat(cache.bytesInMemory()).isZero();
    }

    @Test
    void aDirectoryIsNoFileButIsKnownAsADirectory(@TempDir Path outside) throws IOException {
        Files.createDirectories(root.resolve("docs"));
        Files.createSymbolicLink(root.resolve("out"), outside);
        FileCache cache = new FileCache(root);
        assertThat(cache.lookup("/docs", List.of("docs"))).isEmpty();
        assertThat(cache.isDirectory("/docs", List.of("docs"))).isTrue();
        assertThat(cache.lookup("/out", List.of("out"))).isEmpty();
        assertThat(cache.isDirectory("/out", List.of("out"))).as("a link to a folder outside the root").isFalse();
        assertThat(cache.isDirectory("/none", List.of("none"))).isFalse();

        Files.delete(root.resolve("docs"));
        assertThat(cache.isDirectory("/docs", List.of("docs"))).as("remembered until the entry is due").isTrue();
        FileCache fresh = new FileCache(root, Duration.ZERO);
        assertThat(fresh.lookup("/docs", List.of("docs"))).isEmpty();
        assertThat(fresh.isDirectory("/docs", List.of("docs"))).isFalse();
    }

    @Test
    void aSymbolicLinkOutOfTheRootIsNotAFile(@TempDir Path outside) throws IOException {
        Files.writeString(outside.resolve("secret"), "secret");
        Files.createSymbolicLink(root.resolve("link"), outside.resolve("secret"));
        assertThat(new FileCache(root).lookup("/link", List.of("link"))).isEmpty();
    }
}
