package dev.webstack.common.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/** Secrets kept in files under {@code var/} that only their owner can read (mode 0600). */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Secrets() {}

    /** Reads the secret in {@code file}, creating it with a fresh random value when it does not exist. */
    public static String readOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(file.getParent());
                byte[] raw = new byte[24];
                RANDOM.nextBytes(raw);
                String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                Files.deleteIfExists(tmp);
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, secret + "\n", StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, file);
                } catch (FileAlreadyExistsException raced) {
                    Files.deleteIfExists(tmp);
                }
            }
            return read(file);
        } catch (IOException e) {
            throw new UncheckedIOException("secret " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads an existing secret file (first line, trimmed). */
    public static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").trim();
        } catch (IOException e) {
            throw new UncheckedIOException("secret " + file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
