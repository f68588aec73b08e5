package dev.webstack.site;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.sql.SQLException;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Optional;
import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.sql.DataSource;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the site when the app server deploys it: looks up the DataSource the app server provides
 * at {@value #DATA_SOURCE} (JNDI, declared as a {@code resource-ref} in {@code web.xml}), runs the
 * migrations, loads the CSRF key and registers the servlets. Any failure here throws, so the
 * deployment fails and the app server reports itself not ready rather than serving a site without
 * its schema.
 *
 * <p>The app server's name comes from the context init parameter {@value #INSTANCE} ("app" if absent).
 */
public final class SiteListener implements ServletContextListener {
    public static final String DATA_SOURCE = "java:comp/env/jdbc/site";
    public static final String INSTANCE = "webstack.instance";
    static final String CSRF_KEY = "csrf-hmac-sha256";

    private static final Logger log = LoggerFactory.getLogger(SiteListener.class);

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        DataSource dataSource = lookup(DATA_SOURCE);
        MigrateResult migrated = Migrations.run(dataSource);
        log.info("schema at version {} ({} migrations applied now)", migrated.targetSchemaVersion, migrated.migrationsExecuted);
        byte[] key;
        try {
            key = new SecretStore(dataSource).getOrCreate(CSRF_KEY, 32);
        } catch (SQLException e) {
            throw new IllegalStateException("loading the CSRF key from site_secret: " + e.getMessage(), e);
        }
        String instance = Optional.ofNullable(context.getInitParameter(INSTANCE)).orElse("app");
        Site site = new Site(new PostRepository(dataSource), new Templates(), new Csrf(key, Clock.systemUTC()), instance);

        context.addFilter("security-headers", new SecurityHeadersFilter())
                .addMappingForUrlPatterns(EnumSet.allOf(DispatcherType.class), false, "/*");
        context.addServlet("home", new HomeServlet(site)).addMapping("/");
        context.addServlet("posts", new PostServlet(site)).addMapping("/posts", "/posts/*");
        context.addServlet("api-posts", new ApiPostsServlet(site)).addMapping("/api/posts", "/api/posts/*");
        context.addServlet("error", new ErrorServlet(site)).addMapping(ErrorServlet.PATH);
    }

    private static DataSource lookup(String name) {
        try {
            return (DataSource) new InitialContext().lookup(name);
        } catch (NamingException | ClassCastException e) {
            throw new IllegalStateException("no DataSource at " + name + " (the app server must bind one): " + e, e);
        }
    }
}
