package dev.webstack.site;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Password hashing with the JDK's PBKDF2WithHmacSHA256 and a random salt per password. The
 * iteration count is {@value #ITERATIONS}: OWASP's Password Storage Cheat Sheet asks 600,000 for
 * HMAC-SHA256 (210,000 for HMAC-SHA512); this one keeps a sign-in near a tenth of a second on a
 * small shared machine. A stored hash reads {@code pbkdf2-sha256$<iterations>$<salt>$<hash>}
 * (base64), so the count can grow later without invalidating existing accounts; stored hashes
 * below {@value #MIN_ITERATIONS} iterations never match.
 *
 * <p>The KDF is deliberately slow, which makes it a way to burn the app server's CPU: at most
 * {@link #CONCURRENT} hashes run at once per app server; a caller that waits longer than
 * {@link #WAIT} gets {@link Busy} (the servlet answers 503).
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>what</th><th>value</th></tr>
 *   <tr><td>iterations</td><td>{@value #ITERATIONS}</td></tr>
 *   <tr><td>salt, hash</td><td>{@value #SALT_BYTES} bytes, {@value #HASH_BYTES} bytes</td></tr>
 *   <tr><td>hashes at once</td><td>{@link #CONCURRENT}: the number of CPUs</td></tr>
 * </table>
 */
public final class Passwords {
    public static final int MIN_ITERATIONS = 210_000;
    public static final int ITERATIONS = 210_000;
    static final int SALT_BYTES = 16;
    static final int HASH_BYTES = 32;
    static final int CONCURRENT = Runtime.getRuntime().availableProcessors();
    static final Duration WAIT = Duration.ofSeconds(5);
    private static final String SCHEME = "pbkdf2-sha256";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Semaphore SLOTS = new Semaphore(CONCURRENT, true);
    /**
     * Checked when the account does not exist, so that an unknown name costs as much time as a
     * wrong password and the answer's timing does not tell which names have accounts.
     */
    private static final String DECOY = hash("decoy password, never matched");

    /** Too many hashes in progress on this app server: try again shortly. */
    public static final class Busy extends Exception {
        Busy() {
            super("too many sign-ins in progress", null, false, false);
        }
    }

    private Passwords() {}

    /** A new salted hash of {@code password}, to store. */
    public static String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return SCHEME + "$" + ITERATIONS + "$" + B64.encodeToString(salt) + "$"
                + B64.encodeToString(pbkdf2(password, salt, ITERATIONS));
    }

    /** {@link #hash}, bounded to {@link #CONCURRENT} at once. */
    public static String hashBounded(String password) throws Busy {
        acquire();
        try {
            return hash(password);
        } finally {
            SLOTS.release();
        }
    }

    /**
     * Whether {@code password} matches {@code stored}, compared in constant time. A malformed
     * stored value never matches. Bounded to {@link #CONCURRENT} at once.
     */
    public static boolean verify(String password, String stored) throws Busy {
        acquire();
        try {
            String[] parts = stored.split("\\$", -1);
            if (parts.length != 4 || !parts[0].equals(SCHEME) || !parts[1].matches("[0-9]{1,9}")) {
                return false;
            }
            int iterations = Integer.parseInt(parts[1]);
            byte[] salt = Base64.getDecoder().decode(parts[2]);
            byte[] expected = Base64.getDecoder().decode(parts[3]);
            if (iterations < MIN_ITERATIONS || expected.length == 0) {
                return false;
            }
            return MessageDigest.isEqual(pbkdf2(password, salt, iterations, expected.length), expected);
        } catch (IllegalArgumentException e) {
            return false;
        } finally {
            SLOTS.release();
        }
    }

    /** Spends the time of a {@link #verify} for a name that has no account; always false. */
    public static boolean verifyDecoy(String password) throws Busy {
        verify(password, DECOY);
        return false;
    }

    private static void acquire() throws Busy {
        try {
            if (!SLOTS.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new Busy();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Busy();
        }
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        return pbkdf2(password, salt, iterations, HASH_BYTES);
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations, int bytes) {
        PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, bytes * 8);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 unavailable: " + e, e);
        } finally {
            spec.clearPassword();
        }
    }
}
