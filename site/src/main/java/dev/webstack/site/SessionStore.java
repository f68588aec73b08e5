package dev.webstack.site;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Signed-in sessions in the {@code sessions} table, so that no app server keeps any: the one that
 * signs a visitor in and the one that serves their next page may differ, and may be killed,
 * drained or redeployed in between (no servlet {@code HttpSession} exists in this webapp).
 *
 * <p>A session is a random 256-bit token, in the cookie {@value #COOKIE} (see {@link Cookies}) as
 * 43 base64url characters; the table keeps only its SHA-256, so that whoever reads the table (a
 * backup, the replica) cannot sign in with it. Looking a token up by its hash is not a timing
 * oracle: an attacker learns nothing from how an index lookup on a hash of their guess behaves.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>what</th><th>value</th></tr>
 *   <tr><td>lifetime (cookie and row)</td><td>{@link #LIFETIME} (30 days) from sign-in</td></tr>
 *   <tr><td>expired rows deleted at each sign-in</td><td>at most {@value #CLEANUP_BATCH}</td></tr>
 * </table>
 */
public final class SessionStore {
    public static final String COOKIE = "sid";
    public static final Duration LIFETIME = Duration.ofDays(30);
    static final int TOKEN_BYTES = 32;
    static final int CLEANUP_BATCH = 100;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern TOKEN_SHAPE = Pattern.compile("[A-Za-z0-9_-]{43}");

    private final Database database;

    public SessionStore(Database database) {
        this.database = database;
    }

    /** Starts a session for {@code user}; returns the token for the cookie. */
    public String create(User user) throws SQLException {
        byte[] raw = new byte[TOKEN_BYTES];
        RANDOM.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        try (Connection c = database.primary().getConnection()) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO sessions (token_hash, user_id, expires_at) "
                    + "VALUES (?, ?, CURRENT_TIMESTAMP(3) + INTERVAL " + LIFETIME.toSeconds() + " SECOND)")) {
                s.setBytes(1, hash(token));
                s.setLong(2, user.id());
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement(
                    "DELETE FROM sessions WHERE expires_at < CURRENT_TIMESTAMP(3) LIMIT " + CLEANUP_BATCH)) {
                s.executeUpdate();
            }
        }
        return token;
    }

    /** The user signed in with {@code token}; empty for a malformed, unknown or expired token. */
    public Optional<User> user(String token, Database.ReadFrom from) throws SQLException {
        if (!TOKEN_SHAPE.matcher(token).matches()) {
            return Optional.empty();
        }
        try (Connection c = database.forReading(from).getConnection();
             PreparedStatement s = c.prepareStatement("SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id "
                     + "WHERE s.token_hash = ? AND s.expires_at > CURRENT_TIMESTAMP(3)")) {
            s.setBytes(1, hash(token));
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new User(rs.getLong(1), rs.getString(2))) : Optional.empty();
            }
        }
    }

    /** Ends the session of {@code token}, if there is one. */
    public void delete(String token) throws SQLException {
        if (!TOKEN_SHAPE.matcher(token).matches()) {
            return;
        }
        try (Connection c = database.primary().getConnection();
             PreparedStatement s = c.prepareStatement("DELETE FROM sessions WHERE token_hash = ?")) {
            s.setBytes(1, hash(token));
            s.executeUpdate();
        }
    }

    static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
