package dev.webstack.cli;

import dev.webstack.common.config.DbConfig;
import dev.webstack.common.process.TierRuntime;
import dev.webstack.db.DbServer;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "db", mixinStandardHelpOptions = true,
        description = "Run the database tier alone in the foreground: the embedded MariaDB server (db section of the config).")
final class DbTierCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DbTierCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    TierOptions tier;

    @Override
    public Integer call() {
        DbConfig db = config.load().db();
        DbServer server = DbServer.start(db);
        log.info("db: ready on {} (mode {})", db.listen(), db.mode().name().toLowerCase());
        TierRuntime.runUntilStopped("db", server, tier.supervisor());
        return 0;
    }
}
