package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/** The zones the tests serve (the real foobar.com zone and the test zone) and message helpers. */
final class TestZones {
    static final Path FOOBAR = Path.of("../zones/foobar.com.zone");
    static final Path EXAMPLE = Path.of("src/test/resources/zones/example.test.zone");

    private TestZones() {}

    static DnsConfig config(HostPort listen) {
        return new DnsConfig(listen,
                List.of(new DnsConfig.Zone("foobar.com.", FOOBAR), new DnsConfig.Zone("example.test.", EXAMPLE)),
                1232);
    }

    static QueryHandler handler() {
        DnsConfig config = config(new HostPort("127.0.0.1", 0));
        return new QueryHandler(new Authority(ZoneLoader.loadAll(config)), config.udpPayload());
    }

    /** A query as a stub resolver sends it: RD set, no EDNS. */
    static Message query(String name, int type) {
        return query(name, type, DClass.IN);
    }

    static Message query(String name, int type, int dclass) {
        try {
            return Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, dclass));
        } catch (TextParseException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Message parse(byte[] wire) {
        try {
            return new Message(wire);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The records of a section as {@code name ttl type rdata} lines, easy to read in a failed assertion. */
    static List<String> section(Message message, int section) {
        return message.getSection(section).stream()
                .map(r -> r.getName() + " " + r.getTTL() + " " + Type.string(r.getType()) + " " + r.rdataToString())
                .collect(Collectors.toList());
    }
}
