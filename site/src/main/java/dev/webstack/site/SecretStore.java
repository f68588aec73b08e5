package dev.webstack.site;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import javax.sql.DataSource;

/**
 * Secrets shared by all app servers, in the table {@code site_secret}. The first app server to ask
 * for a secret creates it with {@code INSERT IGNORE} of a random value; every server, that one
 * included, then reads the row, so that concurrent first starts agree on one value.
 */
public final class SecretStore {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DataSource dataSource;

    public SecretStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The secret called {@code name}: {@code bytes} random bytes, created on first use. */
    public byte[] getOrCreate(String name, int bytes) throws SQLException {
        byte[] fresh = new byte[bytes];
        RANDOM.nextBytes(fresh);
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("INSERT IGNORE INTO site_secret (name, value) VALUES (?, ?)")) {
                s.setString(1, name);
                s.setString(2, Base64.getEncoder().encodeToString(fresh));
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("SELECT value FROM site_secret WHERE name = ?")) {
                s.setString(1, name);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("site_secret '" + name + "': missing right after INSERT IGNORE");
                    }
                    return Base64.getDecoder().decode(rs.getString(1));
                }
            }
        }
    }
}
