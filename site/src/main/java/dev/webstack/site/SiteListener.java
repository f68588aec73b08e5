package dev.webstack.site;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.sql.DataSource;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the site when the app server deploys it: looks up the DataSources the app server provides
 * at {@value #DATA_SOURCE} (the primary) and {@value #READ_DATA_SOURCE} (reads; the primary when
 * absent), both JNDI names declared as {@code resource-ref}s in {@code web.xml}, runs the migrations
 * on the primary, loads the CSRF key and registers the servlets. Any failure here throws, so the
 * deployment fails and the app server reports itself not ready rather than serving a site without
 * its schema.
 *
 * <p>Context init parameters: {@value #INSTANCE}, the app server's name ("app" if absent), and
 * {@value #REPLICA_MAX_LAG}, how far behind the primary the app server lets reads go (an ISO-8601
 * duration, {@link #DEFAULT_REPLICA_MAX_LAG} if absent), which sets the {@link ReadYourWrites} window.
 */
public final class SiteListener implements ServletContextListener {
    public static final String DATA_SOURCE = "java:comp/env/jdbc/site";
    public static final String READ_DATA_SOURCE = "java:comp/env/jdbc/site-read";
    public static final String INSTANCE = "webstack.instance";
    public static final String REPLICA_MAX_LAG = "webstack.replica-max-lag";
    static final Duration DEFAULT_REPLICA_MAX_LAG = Duration.ofSeconds(2);
    static final String CSRF_KEY = "csrf-hmac-sha256";

    private static final Logger log = LoggerFactory.getLogger(SiteListener.class);

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        DataSource dataSource = lookup(DATA_SOURCE);
        DataSource reads = optionalLookup(READ_DATA_SOURCE).orElse(dataSource);
        MigrateResult migrated = Migrations.run(dataSource);
        log.info("schema at version {} ({} migrations applied now)", migrated.targetSchemaVersion, migrated.migrationsExecuted);
        byte[] key;
        try {
            key = new SecretStore(dataSource).getOrCreate(CSRF_KEY, 32);
        } catch (SQLException e) {
            throw new IllegalStateException("loading the CSRF key from site_secret: " + e.getMessage(), e);
        }
        String instance = Optional.ofNullable(context.getInitParameter(INSTANCE)).orElse("app");
        Duration maxLag = Optional.ofNullable(context.getInitParameter(REPLICA_MAX_LAG)).map(Duration::parse).orElse(DEFAULT_REPLICA_MAX_LAG);
        Database database = new Database(dataSource, reads);
        Site site = new Site(new PostRepository(database), new UserRepository(dataSource), new SessionStore(database),
                new ReadYourWrites(maxLag.plusSeconds(1)), new Templates(), new Csrf(key, Clock.systemUTC()), instance);
        log.info("reads go to {}", reads == dataSource ? DATA_SOURCE + " (no separate read DataSource)" : READ_DATA_SOURCE);

        context.addFilter("security-headers", new SecurityHeadersFilter())
                .addMappingForUrlPatterns(EnumSet.allOf(DispatcherType.class), false, "/*");
        context.addFilter("session", new SessionFilter(site))
                .addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST), true, "home", "posts", "accounts");
        context.addServlet("home", new HomeServlet(site)).addMapping("/");
        context.addServlet("accounts", new AccountServlet(site))
                .addMapping(AccountServlet.SIGN_UP, AccountServlet.SIGN_IN, AccountServlet.SIGN_OUT);
        context.addServlet("posts", new PostServlet(site)).addMapping("/posts", "/posts/*");
        context.addServlet("api-posts", new ApiPostsServlet(site)).addMapping("/api/posts", "/api/posts/*");
        context.addServlet("error", new ErrorServlet(site)).addMapping(ErrorServlet.PATH);
    }

    private static Optional<DataSource> optionalLookup(String name) {
        try {
            return Optional.of((DataSource) new InitialContext().lookup(name));
        } catch (NamingException e) {
            return Optional.empty();
        } catch (ClassCastException e) {
            throw new IllegalStateException(name + " is not a DataSource: " + e, e);
        }
    }

    private static DataSource lookup(String name) {
        try {
            return (DataSource) new InitialContext().lookup(name);
        } catch (NamingException | ClassCastException e) {
            throw new IllegalStateException("no DataSource at " + name + " (the app server must bind one): " + e, e);
        }
    }
}
