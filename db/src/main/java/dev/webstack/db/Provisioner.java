package dev.webstack.db;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the accounts and schemas of a running embedded server to the state webstack expects, on
 * every start, so that a hand-made change or a lost password file is repaired by a restart:
 *
 * <ul>
 *   <li>{@code root@localhost} authenticates with the generated root password, or through the unix
 *       socket as the system user {@code root}. With {@code --skip-name-resolve} a {@code localhost}
 *       account only matches socket connections, so root cannot log in over TCP at all. When the
 *       JVM runs as another system user, {@code mariadb-install-db} also made an all-privilege
 *       socket-only account of that name; it stays, as that user owns the data files anyway.
 *   <li>No anonymous accounts, no {@code test} schema, and no grants to {@code PUBLIC} on
 *       {@code test} / {@code test\_%} (which {@code mariadb-install-db} gives every account,
 *       including the right to create any database named {@code test_…}).
 *   <li>The site's schema (utf8mb4) and the site user at {@code 127.0.0.1} (TCP) and
 *       {@code localhost} (socket), re-created each time with exactly {@code ALL PRIVILEGES} on
 *       that schema and nothing else.
 *   <li>With replicas, the replication and monitoring accounts of {@link Replication}, each with
 *       its one privilege; without, neither exists.
 * </ul>
 *
 * <p>Only a primary is provisioned: a replica receives all of this through replication (a
 * statement run on the replica itself would be a transaction the primary never had).
 *
 * <p>All statements run over the unix socket, never over TCP.
 */
final class Provisioner {
    private static final Logger log = LoggerFactory.getLogger(Provisioner.class);
    private static final int ACCESS_DENIED = 1045;
    private static final String[] SITE_USER_HOSTS = {"127.0.0.1", "localhost"};

    private final Path socket;

    Provisioner(Path socket) {
        this.socket = socket;
    }

    /**
     * Logs in as root and provisions.
     *
     * @param rootPassword the password root has, or is to get on the first start
     * @param socketUser   the system account {@code mariadb-install-db} let in through the socket
     * @param replication  the replication accounts' passwords when the server has replicas
     */
    void provision(String rootPassword, String socketUser, String database, String user, String userPassword,
                   Optional<ReplicationPasswords> replication) {
        try (Connection c = connectAsAdmin(rootPassword, socketUser); Statement s = c.createStatement()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(?)")) {
                ps.setString(1, rootPassword);
                ps.executeUpdate();
            }

            List<String> anonymousHosts = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT Host FROM mysql.user WHERE User = ''")) {
                while (rs.next()) {
                    anonymousHosts.add(rs.getString(1));
                }
            }
            for (String host : anonymousHosts) {
                s.execute("DROP USER ''@" + quote(host));
                log.info("db: dropped the anonymous account ''@'{}'", host);
            }

            s.execute("DROP DATABASE IF EXISTS test");
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM mysql.db WHERE Db IN (?, ?)")) {
                ps.setString(1, "test");
                ps.setString(2, "test\\_%");
                if (ps.executeUpdate() > 0) {
                    // Rows deleted from the grant tables take effect only once they are reloaded.
                    s.execute("FLUSH PRIVILEGES");
                }
            }

            s.execute("CREATE DATABASE IF NOT EXISTS `" + database + "` CHARACTER SET utf8mb4");
            for (String host : SITE_USER_HOSTS) {
                String account = quote(user) + "@" + quote(host);
                // CREATE OR REPLACE drops whatever else the account was granted since the last start.
                try (PreparedStatement ps = c.prepareStatement("CREATE OR REPLACE USER " + account + " IDENTIFIED BY ?")) {
                    ps.setString(1, userPassword);
                    ps.executeUpdate();
                }
                s.execute("GRANT ALL PRIVILEGES ON `" + database + "`.* TO " + account);
            }
            replicationAccounts(c, replication);
        } catch (SQLException e) {
            throw new IllegalStateException("db: provisioning over " + socket + " failed: " + e.getMessage(), e);
        }
    }

    /** Passwords of the accounts of {@link Replication}. */
    record ReplicationPasswords(String repl, String monitor) {}

    private static void replicationAccounts(Connection c, Optional<ReplicationPasswords> passwords) throws SQLException {
        String repl = quote(Replication.REPL_USER) + "@'127.0.0.1'";
        String monitor = quote(Replication.MONITOR_USER) + "@'127.0.0.1'";
        try (Statement s = c.createStatement()) {
            if (passwords.isEmpty()) {
                s.execute("DROP USER IF EXISTS " + repl + ", " + monitor);
                return;
            }
            try (PreparedStatement ps = c.prepareStatement("CREATE OR REPLACE USER " + repl + " IDENTIFIED BY ?")) {
                ps.setString(1, passwords.get().repl());
                ps.executeUpdate();
            }
            s.execute("GRANT REPLICATION SLAVE ON *.* TO " + repl);
            try (PreparedStatement ps = c.prepareStatement("CREATE OR REPLACE USER " + monitor + " IDENTIFIED BY ?")) {
                ps.setString(1, passwords.get().monitor());
                ps.executeUpdate();
            }
            s.execute("GRANT SLAVE MONITOR ON *.* TO " + monitor);
        }
    }

    /**
     * Root with its password, or, on the first start (or when the root password file was lost),
     * the system account that {@code mariadb-install-db} lets in through the socket.
     */
    Connection connectAsAdmin(String rootPassword, String socketUser) throws SQLException {
        try {
            return connect("root", rootPassword);
        } catch (SQLException e) {
            if (e.getErrorCode() != ACCESS_DENIED) {
                throw e;
            }
            log.info("db: root password not set yet (first start?): logging in as '{}' over the unix socket", socketUser);
            try {
                // The unix_socket plugin checks the peer's uid (SO_PEERCRED): no password needed.
                return connect(socketUser, "");
            } catch (SQLException e2) {
                e2.addSuppressed(e);
                throw new SQLException("neither root with the password in the root password file nor '" + socketUser
                        + "' over the unix socket can log in: " + e2.getMessage(), e2.getSQLState(), e2.getErrorCode(), e2);
            }
        }
    }

    private Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("localSocket", socket.toString());
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "5000");
        return DriverManager.getConnection("jdbc:mariadb://localhost/", p);
    }

    /** A string literal; account names and hosts here come from the config's [A-Za-z0-9_] names or the grant tables. */
    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
