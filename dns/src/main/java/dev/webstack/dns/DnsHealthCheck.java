package dev.webstack.dns;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.health.HealthCheck;
import java.io.IOException;
import java.time.Duration;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * A real UDP query for {@code name}'s SOA to the DNS tier; healthy when the answer is NOERROR with
 * AA set, i.e. the server is up and serves that zone itself. One query, no retry: the supervisor
 * decides how often to probe.
 */
public final class DnsHealthCheck implements HealthCheck {
    private final HostPort server;
    private final String name;

    /**
     * @param server the DNS tier's address
     * @param name   a zone apex it serves, e.g. {@code foobar.com}
     */
    public DnsHealthCheck(HostPort server, String name) {
        this.server = server;
        this.name = name;
    }

    @Override
    public Result check(Duration timeout) {
        String probe = "SOA " + name + " @" + server;
        try {
            SimpleResolver resolver = new SimpleResolver(server.toSocketAddress());
            resolver.setTimeout(timeout.isNegative() || timeout.isZero() ? Duration.ofMillis(1) : timeout);
            Record question = Record.newRecord(Name.fromString(name, Name.root), Type.SOA, DClass.IN);
            Message response = resolver.send(Message.newQuery(question));
            int rcode = response.getRcode();
            boolean authoritative = response.getHeader().getFlag(Flags.AA);
            String detail = probe + " -> " + Rcode.string(rcode) + (authoritative ? ", authoritative" : ", not authoritative");
            return rcode == Rcode.NOERROR && authoritative ? Result.ok(detail) : Result.failed(detail);
        } catch (IOException | RuntimeException e) {
            return Result.failed(probe + ": " + e);
        }
    }
}
