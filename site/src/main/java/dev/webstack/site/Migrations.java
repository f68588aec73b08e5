package dev.webstack.site;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Brings the site's schema up to date with the Flyway migrations in {@code db/migration} of the
 * webapp's class path. Several app servers may start at once: Flyway takes a database lock, so one
 * migrates and the others find the work done.
 */
public final class Migrations {
    private Migrations() {}

    public static MigrateResult run(DataSource dataSource) {
        return Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .failOnMissingLocations(true)
                .load()
                .migrate();
    }
}
