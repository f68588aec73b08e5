package dev.webstack.db;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Backs up and restores the site's database with MariaDB's own tools, logged in as the site user
 * over TCP exactly as the app servers are (so it works in external mode too, with the bundled
 * clients unpacked under {@code data-dir/base}).
 *
 * <ul>
 *   <li>{@link #backup}: {@code mariadb-dump --single-transaction --routines --triggers --events}
 *       of the site's schema only. {@code --single-transaction} reads every InnoDB table in one
 *       consistent snapshot without locking the site out; tables of other engines (MyISAM, Aria)
 *       are not consistent with it. Accounts, passwords and the {@code mysql} schema are not in the
 *       file: a restore goes into a server whose site user already exists (every embedded start
 *       provisions it). The file has no {@code CREATE DATABASE}/{@code USE}, so it loads into
 *       whatever schema the target config names. It is written to {@code FILE.partial}, mode 0600,
 *       and renamed when complete: a failed dump never leaves a file that looks like a backup.
 *   <li>{@link #restore}: the {@code mariadb} client loads such a file into the site's schema.
 *       Tables in the file replace the ones of the same name ({@code DROP TABLE IF EXISTS}); other
 *       tables stay.
 * </ul>
 *
 * <p>Both go to the server that takes writes now: the primary, or with a replica that was
 * promoted (see {@link DbServer#promote}) that replica.
 */
public final class DbBackup {

    private DbBackup() {}

    /** Where a backup went and how large it is. */
    public record Written(Path file, long bytes, HostPort from) {}

    /** Dumps the site's schema into {@code file} (parent folders created); see the class javadoc. */
    public static Written backup(DbConfig config, Path file) {
        Path target = file.toAbsolutePath().normalize();
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        HostPort from = DbServer.writableAddress(config);
        ClientTools tools = ClientTools.of(config);
        try {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(partial);
            Files.createFile(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            throw new UncheckedIOException("db: cannot create " + partial + ": " + e.getMessage(), e);
        }
        try (ClientTools.Run run = tools.prepare("mariadb-dump", siteLogin(config, from), List.of(
                "--single-transaction", "--routines", "--triggers", "--events",
                "--hex-blob", "--default-character-set=utf8mb4",
                config.database()))) {
            Process p = run.builder.redirectOutput(Redirect.to(partial.toFile())).start();
            p.getOutputStream().close();
            ClientTools.await(run, p);
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new Written(target, Files.size(target), from);
        } catch (IOException e) {
            throw new UncheckedIOException("db: backup to " + target + " failed: " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // The failure that brought us here is the one to report.
            }
        }
    }

    /** Loads a file written by {@link #backup} into the site's schema; returns the server it went to. */
    public static HostPort restore(DbConfig config, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("db: restore: " + file + " is not a file");
        }
        HostPort to = DbServer.writableAddress(config);
        ClientTools tools = ClientTools.of(config);
        try (ClientTools.Run run = tools.prepare("mariadb", siteLogin(config, to), List.of(
                "--default-character-set=utf8mb4", "--batch", config.database()))) {
            Process p = run.builder.redirectInput(file.toFile()).redirectOutput(Redirect.DISCARD).start();
            ClientTools.await(run, p);
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException("db: restore of " + file + " failed: " + e.getMessage(), e);
        }
    }

    private static ClientTools.Login siteLogin(DbConfig config, HostPort address) {
        return ClientTools.Login.tcp(address, config.user(), Secrets.read(config.passwordFile()));
    }
}
