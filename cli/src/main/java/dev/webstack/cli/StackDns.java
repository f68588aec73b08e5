package dev.webstack.cli;

import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** Asks the stack's own DNS server, never the system resolver or /etc/hosts. */
final class StackDns {
    private final HostPort server;

    StackDns(HostPort server) {
        this.server = server;
    }

    Message query(String name, int type, boolean tcp) throws IOException {
        SimpleResolver resolver = new SimpleResolver(InetAddress.getByName(server.host()));
        resolver.setPort(server.port());
        resolver.setTCP(tcp);
        resolver.setTimeout(Duration.ofSeconds(3));
        Record question = Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."), type, DClass.IN);
        return resolver.send(Message.newQuery(question));
    }

    /** The answer to {@code name A}: the CNAME chain it went through and the addresses at its end. */
    record Resolution(List<String> chain, List<InetAddress> addresses, String rcode) {
        String describe() {
            List<String> parts = new ArrayList<>(chain.stream().map(c -> "CNAME " + c).toList());
            addresses.forEach(a -> parts.add("A " + a.getHostAddress()));
            return parts.isEmpty() ? rcode : String.join(", ", parts);
        }
    }

    Resolution resolve(String name) throws IOException {
        Message answer = query(name, Type.A, false);
        if (answer.getHeader().getFlag(org.xbill.DNS.Flags.TC)) {
            answer = query(name, Type.A, true);
        }
        List<String> chain = new ArrayList<>();
        List<InetAddress> addresses = new ArrayList<>();
        for (Record r : answer.getSection(Section.ANSWER)) {
            if (r instanceof CNAMERecord c) {
                chain.add(c.getTarget().toString());
            } else if (r instanceof ARecord a) {
                addresses.add(a.getAddress());
            }
        }
        return new Resolution(chain, addresses, Rcode.string(answer.getRcode()));
    }
}
