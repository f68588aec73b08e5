package dev.webstack.cli;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.process.TierRuntime;
import dev.webstack.dns.DnsServer;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "dns", mixinStandardHelpOptions = true,
        description = "Run the DNS tier alone in the foreground: the authoritative server for the configured zones (dns section of the config).")
final class DnsTierCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DnsTierCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    TierOptions tier;

    @Override
    public Integer call() {
        DnsConfig dns = config.load().dns();
        DnsServer server = DnsServer.start(dns);
        log.info("dns: answering on {} udp+tcp for {}", dns.listen(),
                dns.zones().stream().map(DnsConfig.Zone::origin).toList());
        TierRuntime.runUntilStopped("dns", server, tier.supervisor());
        return 0;
    }
}
