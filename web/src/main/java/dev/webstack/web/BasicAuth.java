package dev.webstack.web;

import dev.webstack.common.config.LocationConfig;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP Basic authentication of a location (RFC 7617; nginx's {@code auth_basic} and
 * {@code auth_basic_user_file}) against an htpasswd file. One per location, shared by every event
 * loop.
 *
 * <ul>
 *   <li>The file: {@code user:hash} per line, blank lines and {@code #} comments skipped. Hashes:
 *       bcrypt ({@code $2y$}, {@code $2b$}, {@code $2a$}: {@code htpasswd -B}), SHA-512 and
 *       SHA-256 crypt ({@code $6$}, {@code $5$}: {@code openssl passwd -6}), MD5 crypt
 *       ({@code $1$}) and Apache's {@code $apr1$} ({@code htpasswd}'s default), {@code {SHA}} and
 *       {@code {PLAIN}}. Any other line is refused with the file's name, the line and why.</li>
 *   <li>It is read at start and on reload, and looked at again at most once a second while
 *       requests come: a changed file is read again (nginx reads it on every request), and one that
 *       no longer reads keeps the users it had, with an error in the log.</li>
 *   <li>Checking a password costs what its hash was made to cost (bcrypt: tens of milliseconds),
 *       so it is done off the event loops, on {@link #VERIFIERS} threads; a user name and password
 *       that passed are remembered (by a SHA-256 of the {@code Authorization} value, up to
 *       {@value #REMEMBERED} of them, forgotten when the file changes), since a browser sends them
 *       with every request.</li>
 * </ul>
 */
final class BasicAuth {
    /** Threads that check passwords, for all locations: half the CPUs, so that the event loops keep the rest. */
    static final int VERIFIERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    static final int REMEMBERED = 1024;
    private static final Logger log = LoggerFactory.getLogger(BasicAuth.class);
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Executor VERIFY = verifiers();

    /** What a request's credentials come to without a password check, or that one is needed. */
    enum Outcome { PASS, FAIL, VERIFY }

    private final String realm;
    private final AsciiString challenge;
    private final Path file;
    private volatile Users users;
    private final Map<ByteBuffer, Boolean> passed = new ConcurrentHashMap<>();

    /** The users of a version of the file, and when the file was last looked at. */
    private record Users(Map<String, String> hashes, long size, long modified, long checkedAt) {}

    /**
     * Reads {@code config}'s file now.
     *
     * @throws IllegalArgumentException when it cannot be read, or a line is not {@code user:hash} with a known hash
     *                                  (the message names the file and line)
     */
    BasicAuth(LocationConfig.BasicAuth config) {
        this.realm = config.realm();
        this.challenge = AsciiString.of("Basic realm=\"" + realm + "\", charset=\"UTF-8\"");
        this.file = config.userFile();
        this.users = read(file, System.nanoTime());
    }

    /**
     * This location's authentication for a reloaded config with the same realm and file: the file
     * read again now (a reload reads every file again, as nginx's does), the passwords that passed
     * kept while it is unchanged.
     *
     * @throws IllegalArgumentException as the constructor, when the file no longer reads
     */
    BasicAuth reread() {
        Users now = read(file, System.nanoTime());
        Users was = users;
        if (now.size() != was.size() || now.modified() != was.modified() || !now.hashes().equals(was.hashes())) {
            passed.clear();
        }
        users = now;
        return this;
    }

    /** The {@code WWW-Authenticate} value of a 401 from this location. */
    AsciiString challenge() {
        return challenge;
    }

    /**
     * What {@code authorization} (the request's header, or null) comes to: {@link Outcome#PASS}
     * when it carries a user name and password that passed before, {@link Outcome#FAIL} when it
     * carries none or a user the file does not have, else {@link Outcome#VERIFY}: then
     * {@link #verify} says.
     */
    Outcome check(String authorization) {
        Users current = current();
        if (authorization == null || authorization.length() < 7 || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return Outcome.FAIL;
        }
        if (passed.containsKey(key(authorization))) {
            return Outcome.PASS;
        }
        String[] credentials = credentials(authorization);
        return credentials == null || !current.hashes().containsKey(credentials[0]) ? Outcome.FAIL : Outcome.VERIFY;
    }

    /**
     * Checks the password of {@code authorization} off the event loop; the future says whether it
     * matched, or fails with {@link RejectedExecutionException} when too many checks are waiting.
     */
    CompletableFuture<Boolean> verify(String authorization) {
        Users current = users;
        return CompletableFuture.supplyAsync(() -> {
            String[] credentials = credentials(authorization);
            String hash = credentials == null ? null : current.hashes().get(credentials[0]);
            boolean ok = hash != null && matches(credentials[1], hash);
            if (ok && users == current) {
                if (passed.size() >= REMEMBERED) {
                    passed.clear();
                }
                passed.put(key(authorization), Boolean.TRUE);
            }
            return ok;
        }, VERIFY);
    }

    /** The user name {@code authorization} gives (for the access log); null when it gives none. */
    static String user(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String[] credentials = credentials(authorization);
        return credentials == null ? null : credentials[0];
    }

    /** The users as the file says now: looked at again when a second has passed since the last look. */
    private Users current() {
        Users u = users;
        long now = System.nanoTime();
        if (now - u.checkedAt() < RECHECK_NANOS) {
            return u;
        }
        try {
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
            if (attrs.size() == u.size() && attrs.lastModifiedTime().toMillis() == u.modified()) {
                users = new Users(u.hashes(), u.size(), u.modified(), now);
            } else {
                users = read(file, now);
                passed.clear();
                log.info("web: {} changed, read again ({} users)", file, users.hashes().size());
            }
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            // Keep the users it had, and look again in a second.
            users = new Users(u.hashes(), u.size(), u.modified(), now);
            log.error("web: {}: {} (the users read before stay)", file, e.getMessage());
        }
        return users;
    }

    private static Users read(Path file, long now) {
        List<String> lines;
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class);
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, String> hashes = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String where = file + ":" + (i + 1) + ": ";
            if (colon <= 0) {
                throw new IllegalArgumentException(where + "expected user:hash");
            }
            String user = line.substring(0, colon);
            // htpasswd may add fields after the hash (user:hash:comment); the hash never holds a ':'.
            String hash = line.substring(colon + 1).split(":", 2)[0];
            if (!known(hash)) {
                throw new IllegalArgumentException(where + "the hash of " + user + " is none of bcrypt ($2y$), SHA-crypt ($5$, $6$),"
                        + " MD5-crypt ($1$, $apr1$), {SHA} or {PLAIN}");
            }
            if (hashes.putIfAbsent(user, hash) != null) {
                throw new IllegalArgumentException(where + user + " is in the file twice");
            }
        }
        return new Users(Map.copyOf(hashes), attrs.size(), attrs.lastModifiedTime().toMillis(), now);
    }

    private static boolean known(String hash) {
        return hash.startsWith("$2y$") || hash.startsWith("$2b$") || hash.startsWith("$2a$") || hash.startsWith("$5$")
                || hash.startsWith("$6$") || hash.startsWith("$1$") || hash.startsWith("$apr1$") || hash.startsWith("{SHA}")
                || hash.startsWith("{PLAIN}");
    }

    /** Whether {@code password} makes {@code hash}; the comparison takes the same time wherever they differ. */
    static boolean matches(String password, String hash) {
        byte[] pw = password.getBytes(StandardCharsets.UTF_8);
        String made;
        try {
            if (hash.startsWith("$2")) {
                // BouncyCastle reads $2a$, $2b$ and $2y$ alike; the bcrypt hash itself is compared inside.
                return OpenBSDBCrypt.checkPassword(hash, pw);
            } else if (hash.startsWith("$6$")) {
                made = Sha2Crypt.sha512Crypt(pw, hash);
            } else if (hash.startsWith("$5$")) {
                made = Sha2Crypt.sha256Crypt(pw, hash);
            } else if (hash.startsWith("$apr1$")) {
                made = Md5Crypt.apr1Crypt(pw, hash);
            } else if (hash.startsWith("$1$")) {
                made = Md5Crypt.md5Crypt(pw, hash);
            } else if (hash.startsWith("{SHA}")) {
                made = "{SHA}" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(pw));
            } else {
                made = "{PLAIN}" + password;
            }
        } catch (IllegalArgumentException | NoSuchAlgorithmException e) {
            return false; // a malformed salt or cost in the file: no password matches it
        }
        return MessageDigest.isEqual(made.getBytes(StandardCharsets.UTF_8), hash.getBytes(StandardCharsets.UTF_8));
    }

    /** {user, password} from {@code Basic base64(user:password)}; null when it is not that. */
    private static String[] credentials(String authorization) {
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(authorization.substring(6).strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
        String pair = new String(decoded, StandardCharsets.UTF_8);
        int colon = pair.indexOf(':');
        return colon < 0 ? null : new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    private static ByteBuffer key(String authorization) {
        try {
            return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(authorization.getBytes(StandardCharsets.ISO_8859_1)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    private static Executor verifiers() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(VERIFIERS, VERIFIERS, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1024),
                r -> {
                    Thread t = new Thread(r, "web-auth");
                    t.setDaemon(true);
                    return t;
                });
        return pool;
    }
}
