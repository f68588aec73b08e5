package dev.webstack.cli;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.process.TierRuntime;
import dev.webstack.dns.DnsOptions;
import dev.webstack.dns.DnsServer;
import dev.webstack.dns.ZoneCheck;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "dns", mixinStandardHelpOptions = true,
        description = "Run the DNS tier alone in the foreground: the authoritative server for the configured zones (dns section of the config).",
        subcommands = DnsTierCommand.Check.class)
final class DnsTierCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DnsTierCommand.class);

    @Mixin
    ConfigOption config;

    @Mixin
    TierOptions tier;

    @Override
    public Integer call() {
        StackConfig stack = config.load();
        DnsConfig dns = stack.dns();
        // The zones' IXFR histories outlive a restart, as NSD's ixfr files do.
        DnsServer server = DnsServer.start(dns, DnsOptions.from(dns).withIxfrDir(stack.varDir().resolve("dns/ixfr")));
        log.info("dns: answering on {} udp+tcp for {}", String.join(", ", dns.addresses().stream().map(Object::toString).toList()),
                dns.zones().stream().map(DnsConfig.Zone::origin).toList());
        // A reload re-reads webstack.yml too, so added or removed zones, transfer and notify
        // settings and the rate limit are applied; the listen address needs a restart.
        TierRuntime.onSighup("dns", () -> log.info("dns: {}", server.reload(config.load().dns()).orThrow()));
        TierRuntime.runUntilStopped("dns", server, tier.supervisor());
        return 0;
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate the zone files without serving them: syntax errors as file:line: reason, then consistency warnings.")
    static final class Check implements Callable<Integer> {

        @Mixin
        ConfigOption config;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            DnsConfig dns = config.load().dns();
            List<ZoneCheck.Problem> problems = ZoneCheck.check(dns);
            for (DnsConfig.Zone z : dns.zones()) {
                out.println(z.origin() + " " + z.file() + ": loaded");
            }
            problems.forEach(p -> out.println("warning: " + p));
            out.flush();
            return problems.isEmpty() ? 0 : 1;
        }
    }
}
