package dev.webstack.common.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The database tier. In {@code embedded} mode the stack runs a real MariaDB server itself (data
 * under {@code dataDir}, grants on, a least-privilege user for the site); in {@code external} mode
 * it uses an existing MySQL 8 / MariaDB server as is.
 *
 * @param mode         embedded or external
 * @param listen       the embedded server's TCP address, default {@code 127.0.0.1:3307}
 * @param database     the site's schema, default {@code foobar}
 * @param user         the site's database user, default {@code foobar}
 * @param dataDir      embedded: where the server's files live, default {@code var/db}
 * @param serverBinary embedded: a system {@code mariadbd}/{@code mysqld} to run instead of the bundled one
 * @param url          external: the JDBC URL
 * @param passwordFile the site user's password file; embedded: generated there on first start
 * @param replicas     embedded: how many GTID replicas of the server to run (0 or 1), default 0
 */
public record DbConfig(
        Mode mode,
        HostPort listen,
        String database,
        String user,
        Path dataDir,
        Optional<Path> serverBinary,
        Optional<String> url,
        Path passwordFile,
        int replicas) {

    public enum Mode { EMBEDDED, EXTERNAL }

    /**
     * The replication monitoring account: {@code SLAVE MONITOR} only, created by the db tier when
     * there are replicas; the app servers log in as it to see how far behind the replica is.
     */
    public static final String MONITOR_USER = "webstack_monitor";

    /** The monitoring account's password file, next to the site user's. */
    public Path monitorPasswordFile() {
        return passwordFile.resolveSibling("db-monitor.password");
    }

    /**
     * Replica {@code n} (1-based) of the embedded server: it listens on the next port after the
     * primary's and keeps its files in {@code <data-dir>-replica-<n>}.
     */
    public DbConfig replica(int n) {
        if (n < 1 || n > replicas) {
            throw new IllegalArgumentException("replica: " + n + " (expected: 1-" + replicas + ")");
        }
        return new DbConfig(mode, listen.withPort(listen.port() + n), database, user,
                dataDir.resolveSibling(dataDir.getFileName() + "-replica-" + n), serverBinary, Optional.empty(), passwordFile, 0);
    }

    /**
     * The JDBC URL the app servers use. With a replica it lists the primary, then the replica, in
     * MariaDB Connector/J's {@code sequential} mode: connections go to the first server that answers,
     * so after {@code webstack db promote} the app servers follow the new primary by themselves.
     */
    public String jdbcUrl() {
        if (url.isPresent()) {
            return url.get();
        }
        if (replicas == 0) {
            return "jdbc:mariadb://" + listen + "/" + database;
        }
        StringBuilder hosts = new StringBuilder(listen.toString());
        for (int n = 1; n <= replicas; n++) {
            hosts.append(',').append(replica(n).listen());
        }
        return "jdbc:mariadb:sequential://" + hosts + "/" + database;
    }

    static DbConfig from(ConfigNode node, Path base, Path varDir) {
        node.allowOnly("mode", "listen", "database", "user", "data-dir", "server-binary", "url", "password-file", "replicas");
        Mode mode = node.enumValue("mode", Mode.EMBEDDED);
        String database = node.string("database", "foobar");
        if (!database.matches("[A-Za-z0-9_]{1,64}")) {
            throw node.child("database").orElse(node).error("'" + database + "' (expected: letters, digits and _)");
        }
        String user = node.string("user", "foobar");
        if (!user.matches("[A-Za-z0-9_]{1,32}")) {
            throw node.child("user").orElse(node).error("'" + user + "' (expected: letters, digits and _)");
        }
        Optional<String> url = node.optionalString("url");
        if (mode == Mode.EXTERNAL && url.isEmpty()) {
            throw node.error("url: missing (mode external needs the JDBC URL of the server to use)");
        }
        // MariaDB Connector/J speaks to MySQL 8 too, but only under the jdbc:mariadb: scheme.
        if (url.isPresent() && !url.get().startsWith("jdbc:mariadb:")) {
            throw node.child("url").orElseThrow().error("'" + url.get()
                    + "' (expected: jdbc:mariadb://host:port/db; use that scheme for MySQL 8 servers too)");
        }
        if (mode == Mode.EXTERNAL && node.optionalString("password-file").isEmpty()) {
            throw node.error("password-file: missing (mode external needs the file holding the user's password)");
        }
        return new DbConfig(
                mode,
                node.hostPort("listen", "127.0.0.1:3307"),
                database,
                user,
                base.resolve(node.string("data-dir", varDir.resolve("db").toString())).normalize(),
                node.optionalString("server-binary").map(base::resolve),
                mode == Mode.EXTERNAL ? url : Optional.empty(),
                base.resolve(node.string("password-file", varDir.resolve("secrets/db-" + user + ".password").toString())).normalize(),
                node.integer("replicas", 0, 0, 1));
    }
}
