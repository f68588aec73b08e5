package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TSIGRecord;
import org.xbill.DNS.Type;

/**
 * Full zone transfers (AXFR, RFC 5936) over TCP to the addresses allowed to ask; every other AXFR
 * is REFUSED by {@link QueryHandler}, as is AXFR over UDP and IXFR from a client not allowed.
 *
 * <p>An IXFR over TCP from the same clients (RFC 1995: what NSD, BIND and Knot secondaries send
 * first when they hold a copy of the zone) is answered as RFC 1995 section 4 lets a server without
 * the zone's history answer it: with the current SOA alone when the serial the client sent (the
 * SOA in its query's authority section) is not older than ours (RFC 1982 arithmetic), the client
 * being up to date; else with the whole zone, as an AXFR is. An IXFR without that SOA is FORMERR.
 *
 * <p>An IXFR over UDP from the same clients ({@link #overUdp}, RFC 1995 section 2) gets the same
 * answer in one datagram when it fits the client's UDP size ({@link QueryHandler#sizeLimit}), as
 * NSD answers it; when it does not, the current SOA alone, which tells the client to ask again
 * over TCP (NSD sends the first part of the zone instead). AXFR over UDP stays REFUSED.
 *
 * <p>The transfer is the SOA, every other record of the zone (glue below zone cuts included), and
 * the SOA again, in as many messages as needed, each at most {@value #MESSAGE_SIZE} bytes (RFC 5936
 * section 2.2 leaves the split to the server). The first message carries the question, the others
 * none.
 *
 * <p>A client given a TSIG key ({@code transfer-to: "ADDRESS KEY"}, NSD's {@code provide-xfr}) must
 * sign its AXFR with it (RFC 8945): unsigned, it is REFUSED as a stranger would be; signed with
 * another key, a bad MAC or a time outside the fudge, it is answered NOTAUTH with the TSIG error
 * (BADKEY, BADSIG, BADTIME; section 5.2). Its transfer is signed, every message: the first with
 * the request's MAC and all TSIG variables, each next one with the previous message's MAC and the
 * timers only (section 5.3.1). A signed AXFR from a client given no key is answered NOTAUTH, BADKEY.
 */
final class ZoneTransfer {
    /** Largest message of a transfer: well below 65535, so that one message is never too long. */
    static final int MESSAGE_SIZE = 16_384;

    /** Who may transfer, and with which key: swapped whole by a reload ({@link #use}). */
    private record Clients(Set<InetAddress> allowed, Map<InetAddress, TSIG> keys) {}

    private volatile Clients clients;

    /**
     * @param allowed the addresses that may transfer every zone (secondaries)
     * @param keys    those of them that must sign with a TSIG key, and the key
     */
    ZoneTransfer(Set<InetAddress> allowed, Map<InetAddress, TSIG> keys) {
        use(allowed, keys);
    }

    /** From the next query on, these clients and keys (a reload that changed {@code dns.transfer-to} or the keys). */
    void use(Set<InetAddress> allowed, Map<InetAddress, TSIG> keys) {
        clients = new Clients(Set.copyOf(allowed), Map.copyOf(keys));
    }

    ZoneTransfer(Set<InetAddress> allowed) {
        this(allowed, Map.of());
    }

    boolean allows(InetAddress client) {
        return clients.allowed().contains(client);
    }

    /**
     * The messages of the transfer asked for by {@code query} from {@code client}, or empty when
     * the query is not an AXFR or IXFR that this client may have (it is then answered as any other
     * query).
     */
    Optional<List<byte[]>> transfer(byte[] query, InetAddress client, List<ZoneData> zones, QueryHandler handler) {
        return answer(query, client, zones, handler, QueryHandler.Transport.TCP);
    }

    /**
     * The datagram that answers the IXFR over UDP {@code query} from {@code client}, or empty when
     * the query is not an IXFR this client may have (it is then answered as any other query, and an
     * AXFR over UDP is REFUSED).
     *
     * @param handler the zones' query handler, which knows how large a UDP answer to this query may be
     */
    Optional<byte[]> overUdp(byte[] query, InetAddress client, List<ZoneData> zones, QueryHandler handler) {
        return answer(query, client, zones, handler, QueryHandler.Transport.UDP).map(List::getFirst);
    }

    /** Whether the question of {@code query} (a datagram, header first) asks for IXFR: read without parsing the rest. */
    static boolean asksIxfr(ByteBuf query) {
        int at = query.readerIndex() + 12;
        int end = query.writerIndex();
        while (at < end) {
            int length = query.getUnsignedByte(at);
            if (length == 0) {
                return at + 3 <= end && query.getUnsignedShort(at + 1) == Type.IXFR;
            }
            if (length > 63) {
                return false; // a compression pointer, or no label: not a question this class answers
            }
            at += length + 1;
        }
        return false;
    }

    /**
     * A transfer's messages; over UDP only an IXFR, in one message. Each message copies the query's
     * RD and CD flags and, when the query has EDNS, carries an OPT record ({@link QueryHandler#answerOpt}), as NSD's do.
     */
    private Optional<List<byte[]>> answer(byte[] query, InetAddress client, List<ZoneData> zones, QueryHandler handler,
                                          QueryHandler.Transport transport) {
        boolean udp = transport == QueryHandler.Transport.UDP;
        Clients now = clients;
        if (!now.allowed().contains(client) || query.length < 12) {
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
                || message.getSection(Section.QUESTION).size() != 1
                || (question.getType() != Type.AXFR && question.getType() != Type.IXFR)
                || (udp && question.getType() != Type.IXFR)
                || question.getDClass() != DClass.IN) {
            return Optional.empty();
        }
        TSIG key = now.keys().get(client);
        TSIGRecord signature;
        try {
            signature = message.getTSIG();
        } catch (RuntimeException e) {
            return Optional.empty(); // a header that counts records the message does not hold (found by DnsFuzzTest)
        }
        if (key == null && signature != null) {
            try {
                // No key for this client: BADKEY, unsigned, naming the key and algorithm it used.
                return Optional.of(List.of(notAuth(message, new TSIG(signature.getAlgorithm(), signature.getName(), new byte[1]), Rcode.BADKEY)));
            } catch (IllegalArgumentException e) {
                return Optional.empty(); // an algorithm dnsjava does not know: refused
            }
        }
        if (key != null) {
            if (signature == null) {
                return Optional.empty(); // refused, as a client without the right to transfer
            }
            int verified;
            try {
                verified = key.verify(message, query, null);
            } catch (RuntimeException e) {
                return Optional.empty(); // a TSIG record that does not parse as one
            }
            if (verified != Rcode.NOERROR) {
                return Optional.of(List.of(notAuth(message, key, verified)));
            }
        }
        return zones.stream().filter(z -> z.origin().equals(question.getName())).findFirst().map(zone -> {
            List<Message> messages = question.getType() == Type.AXFR ? messages(message, zone) : incremental(message, zone);
            List<byte[]> out = render(messages, message, handler, key, signature);
            if (udp && (out.size() > 1 || out.getFirst().length > handler.sizeLimit(message, transport))) {
                // Too large for one datagram: the SOA alone, so that the client asks again over TCP (RFC 1995 section 2).
                out = render(List.of(soaAlone(message, zone)), message, handler, key, signature);
            }
            return out;
        });
    }

    /** The answer to an IXFR: the SOA alone to a client that is up to date, else the whole zone; FORMERR without the client's SOA. */
    private static List<Message> incremental(Message query, ZoneData zone) {
        SOARecord theirs = null;
        for (Record r : query.getSection(Section.AUTHORITY)) {
            if (r instanceof SOARecord soa && soa.getName().equals(zone.origin())) {
                theirs = soa;
            }
        }
        if (theirs == null) {
            Message m = start(query, true);
            m.getHeader().unsetFlag(Flags.AA);
            m.getHeader().setRcode(Rcode.FORMERR);
            return List.of(m);
        }
        if (!serialBefore(theirs.getSerial(), zone.soa().getSerial())) {
            return List.of(soaAlone(query, zone));
        }
        return messages(query, zone);
    }

    private static Message soaAlone(Message query, ZoneData zone) {
        Message m = start(query, true);
        m.addRecord(zone.soa(), Section.ANSWER);
        return m;
    }

    /** Whether serial {@code a} comes before {@code b} in RFC 1982 serial number arithmetic (32 bits). */
    static boolean serialBefore(long a, long b) {
        long diff = (b - a) & 0xFFFF_FFFFL;
        return diff != 0 && diff < 0x8000_0000L;
    }

    /** The messages in wire format: with the OPT record when the query had one, signed when the client has a key. */
    private static List<byte[]> render(List<Message> messages, Message query, QueryHandler handler, TSIG key, TSIGRecord signature) {
        OPTRecord opt = query.getOPT();
        if (opt != null) {
            messages.forEach(m -> m.addRecord(handler.answerOpt(opt), Section.ADDITIONAL));
        }
        return key == null ? unsigned(messages) : signed(messages, key, signature);
    }

    private static List<byte[]> unsigned(List<Message> messages) {
        return messages.stream().map(Message::toWire).toList();
    }

    /** Each message signed: the first over the request's MAC with every TSIG variable, the others over the one before, timers only. */
    private static List<byte[]> signed(List<Message> messages, TSIG key, TSIGRecord request) {
        List<byte[]> out = new ArrayList<>(messages.size());
        TSIGRecord previous = request;
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            key.apply(m, Rcode.NOERROR, previous, i == 0);
            previous = m.getTSIG();
            out.add(m.toWire());
        }
        return out;
    }

    /** NOTAUTH with the TSIG error {@code error} (RFC 8945 section 5.2): unsigned for BADKEY and BADSIG, as the RFC says. */
    private static byte[] notAuth(Message query, TSIG key, int error) {
        Message m = start(query, true);
        m.getHeader().unsetFlag(Flags.AA);
        m.getHeader().setRcode(Rcode.NOTAUTH);
        key.apply(m, error, query.getTSIG(), true);
        return m.toWire();
    }

    private static List<Message> messages(Message query, ZoneData zone) {
        List<Record> records = new ArrayList<>();
        records.add(zone.soa());
        for (RRset rrset : zone.rrsets()) {
            if (rrset.getType() != Type.SOA) {
                records.addAll(rrset.rrs(false));
            }
        }
        records.add(zone.soa());

        List<Message> messages = new ArrayList<>();
        Message current = start(query, true);
        int count = 0;
        for (Record r : records) {
            current.addRecord(r, Section.ANSWER);
            count++;
            if (count > 1 && current.toWire().length > MESSAGE_SIZE) {
                current.removeRecord(r, Section.ANSWER);
                messages.add(current);
                current = start(query, false);
                current.addRecord(r, Section.ANSWER);
                count = 1;
            }
        }
        messages.add(current);
        return messages;
    }

    private static Message start(Message query, boolean withQuestion) {
        Message m = new Message(query.getHeader().getID());
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setFlag(Flags.AA);
        for (int flag : new int[] {Flags.RD, Flags.CD}) {
            if (query.getHeader().getFlag(flag)) {
                m.getHeader().setFlag(flag);
            }
        }
        if (withQuestion) {
            m.addRecord(query.getQuestion(), Section.QUESTION);
        }
        return m;
    }
}
