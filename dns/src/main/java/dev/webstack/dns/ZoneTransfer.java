package dev.webstack.dns;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Full zone transfers (AXFR, RFC 5936) over TCP to the addresses allowed to ask; every other AXFR
 * is REFUSED by {@link QueryHandler}, as are AXFR over UDP and IXFR.
 *
 * <p>The transfer is the SOA, every other record of the zone (glue below zone cuts included), and
 * the SOA again, in as many messages as needed, each at most {@value #MESSAGE_SIZE} bytes (RFC 5936
 * section 2.2 leaves the split to the server). The first message carries the question, the others
 * none.
 */
final class ZoneTransfer {
    /** Largest message of a transfer: well below 65535, so that one message is never too long. */
    static final int MESSAGE_SIZE = 16_384;

    private final Set<InetAddress> allowed;

    /** @param allowed the addresses that may transfer every zone (secondaries) */
    ZoneTransfer(Set<InetAddress> allowed) {
        this.allowed = Set.copyOf(allowed);
    }

    boolean allows(InetAddress client) {
        return allowed.contains(client);
    }

    /**
     * The messages of the transfer asked for by {@code query} from {@code client}, or empty when
     * the query is not an AXFR that this client may have (it is then answered as any other query).
     */
    Optional<List<byte[]>> transfer(byte[] query, InetAddress client, List<ZoneData> zones) {
        if (!allowed.contains(client) || query.length < 12) {
            return Optional.empty();
        }
        Message message;
        try {
            message = new Message(query);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        Record question = message.getQuestion();
        if (message.getHeader().getOpcode() != Opcode.QUERY || message.getHeader().getFlag(Flags.QR)
                || message.getSection(Section.QUESTION).size() != 1 || question.getType() != Type.AXFR
                || question.getDClass() != DClass.IN) {
            return Optional.empty();
        }
        return zones.stream().filter(z -> z.origin().equals(question.getName())).findFirst()
                .map(zone -> messages(message, zone));
    }

    private static List<byte[]> messages(Message query, ZoneData zone) {
        List<Record> records = new ArrayList<>();
        records.add(zone.soa());
        for (RRset rrset : zone.rrsets()) {
            if (rrset.getType() != Type.SOA) {
                records.addAll(rrset.rrs(false));
            }
        }
        records.add(zone.soa());

        List<byte[]> messages = new ArrayList<>();
        Message current = start(query, true);
        int count = 0;
        for (Record r : records) {
            current.addRecord(r, Section.ANSWER);
            count++;
            if (count > 1 && current.toWire().length > MESSAGE_SIZE) {
                current.removeRecord(r, Section.ANSWER);
                messages.add(current.toWire());
                current = start(query, false);
                current.addRecord(r, Section.ANSWER);
                count = 1;
            }
        }
        messages.add(current.toWire());
        return messages;
    }

    private static Message start(Message query, boolean withQuestion) {
        Message m = new Message(query.getHeader().getID());
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setFlag(Flags.AA);
        if (withQuestion) {
            m.addRecord(query.getQuestion(), Section.QUESTION);
        }
        return m;
    }
}
