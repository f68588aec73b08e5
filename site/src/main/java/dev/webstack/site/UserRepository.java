package dev.webstack.site;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Accounts in the {@code users} table ({@code db/migration/V4__users_and_sessions.sql}), always on
 * the primary: sign-up writes, and sign-in must see the current failure count.
 *
 * <p>Throttling, kept in the row so that every app server applies it: after
 * {@value #MAX_FAILURES} failed sign-ins in a row an account refuses sign-ins for
 * {@link #LOCK_FOR}, and again after each further failure, until a sign-in succeeds.
 */
public final class UserRepository {
    public static final int MAX_FAILURES = 5;
    public static final Duration LOCK_FOR = Duration.ofMinutes(1);
    /** MariaDB's "duplicate entry" error. */
    private static final int ER_DUP_ENTRY = 1062;

    /** An account as sign-in needs it; {@code lockedForSeconds} > 0 while it refuses sign-ins. */
    public record Account(User user, String passwordHash, long lockedForSeconds) {}

    private final DataSource primary;

    public UserRepository(DataSource primary) {
        this.primary = primary;
    }

    /** Creates an account; empty when the name is taken (in any case). */
    public Optional<User> create(String name, String passwordHash) throws SQLException {
        try (Connection c = primary.getConnection();
             PreparedStatement s = c.prepareStatement("INSERT INTO users (name, password_hash) VALUES (?, ?)",
                     Statement.RETURN_GENERATED_KEYS)) {
            s.setString(1, name);
            s.setString(2, passwordHash);
            s.executeUpdate();
            try (ResultSet keys = s.getGeneratedKeys()) {
                if (!keys.next()) {
                    throw new SQLException("INSERT INTO users returned no generated id");
                }
                return Optional.of(new User(keys.getLong(1), name));
            }
        } catch (SQLIntegrityConstraintViolationException e) {
            if (e.getErrorCode() == ER_DUP_ENTRY) {
                return Optional.empty();
            }
            throw e;
        }
    }

    public Optional<Account> forSignIn(String name) throws SQLException {
        try (Connection c = primary.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT id, name, password_hash, "
                     + "IF(locked_until > CURRENT_TIMESTAMP(3), CEILING(TIMESTAMPDIFF(MICROSECOND, CURRENT_TIMESTAMP(3), locked_until) / 1000000), 0) "
                     + "FROM users WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Account(new User(rs.getLong(1), rs.getString(2)), rs.getString(3), rs.getLong(4)))
                        : Optional.empty();
            }
        }
    }

    /** Counts a failed sign-in, locking the account once there were {@value #MAX_FAILURES} in a row. */
    public void failed(long id) throws SQLException {
        // locked_until first: MariaDB applies a single-table UPDATE's assignments left to right.
        update(id, "UPDATE users SET locked_until = IF(failed_logins + 1 >= " + MAX_FAILURES
                + ", CURRENT_TIMESTAMP(3) + INTERVAL " + LOCK_FOR.toSeconds() + " SECOND, locked_until), "
                + "failed_logins = failed_logins + 1 WHERE id = ?");
    }

    public void succeeded(long id) throws SQLException {
        update(id, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ? AND failed_logins > 0");
    }

    private void update(long id, String sql) throws SQLException {
        try (Connection c = primary.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, id);
            s.executeUpdate();
        }
    }
}
