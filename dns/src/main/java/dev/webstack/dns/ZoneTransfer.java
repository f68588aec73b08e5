package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * first when they hold a copy of the zone) is answered with the current SOA alone when the serial
 * the client sent (the SOA in its query's authority section) is not older than ours (RFC 1982
 * arithmetic), the client being up to date; with the differences from its serial to ours when the
 * zone's {@link ZoneHistory} has them (RFC 1995 section 4: the current SOA, then per reload the old
 * SOA, the deleted records, the new SOA, the added records, and the current SOA again); else, a
 * client further behind or after a restart, with the whole zone, as an AXFR is. An IXFR without
 * that SOA is FORMERR.
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
    private static final Logger log = LoggerFactory.getLogger(ZoneTransfer.class);
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

    /** Whether any address may transfer (none by default: {@code dns.transfer-to} is empty). */
    boolean allowsAny() {
        return !clients.allowed().isEmpty();
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
            StringBuilder what = new StringBuilder();
            List<Message> messages = question.getType() == Type.AXFR ? messages(message, zone) : incremental(message, zone, what);
            List<byte[]> out = render(messages, message, handler, key, signature);
            if (udp && (out.size() > 1 || out.getFirst().length > handler.sizeLimit(message, transport))) {
                // Too large for one datagram: the SOA alone, so that the client asks again over TCP (RFC 1995 section 2).
                out = render(List.of(soaAlone(message, zone)), message, handler, key, signature);
                what.append(", too large for UDP: the SOA alone");
            }
            log.info("dns: {} {} to {} over {}: {}{} ({} message{})", Type.string(question.getType()), zone.origin(), client.getHostAddress(),
                    transport, question.getType() == Type.AXFR ? "serial " + zone.soa().getSerial() : "", what, out.size(), out.size() == 1 ? "" : "s");
            return out;
        });
    }

    /**
     * The answer to an IXFR (see the class comment), and in {@code what} which answer it is; FORMERR
     * without the client's SOA.
     */
    private static List<Message> incremental(Message query, ZoneData zone, StringBuilder what) {
        SOARecord theirs = null;
        for (Record r : query.getSection(Section.AUTHORITY)) {
            if (r instanceof SOARecord soa && soa.getName().equals(zone.origin())) {
                theirs = soa;
            }
        }
        if (theirs == null) {
            what.append("no SOA in the query: FORMERR");
            Message m = start(query, true);
            m.getHeader().unsetFlag(Flags.AA);
            m.getHeader().setRcode(Rcode.FORMERR);
            return List.of(m);
        }
        long serial = zone.soa().getSerial();
        what.append("serial ").append(theirs.getSerial()).append(" -> ").append(serial);
        if (!serialBefore(theirs.getSerial(), serial)) {
            what.append(", up to date: the SOA alone");
            return List.of(soaAlone(query, zone));
        }
        Optional<List<ZoneHistory.Difference>> differences = zone.history().since(theirs.getSerial(), serial);
        if (differences.isPresent()) {
            int n = differences.get().size();
            what.append(", ").append(n).append(n == 1 ? " difference" : " differences");
            return split(query, incrementalRecords(zone, differences.get()));
        }
        what.append(", not in the history kept: the whole zone");
        return messages(query, zone);
    }

    /**
     * RFC 1995 section 4: the current SOA; for each difference, its old SOA, the records it
     * deleted, its new SOA and the records it added; the current SOA again.
     */
    private static List<Record> incrementalRecords(ZoneData zone, List<ZoneHistory.Difference> differences) {
        List<Record> records = new ArrayList<>();
        records.add(zone.soa());
        for (ZoneHistory.Difference d : differences) {
            records.add(d.from());
            records.addAll(d.deleted());
            records.add(d.to());
            records.addAll(d.added());
        }
        records.add(zone.soa());
        return records;
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

    /** The whole zone: the SOA, every other record, the SOA again. */
    private static List<Message> messages(Message query, ZoneData zone) {
        List<Record> records = new ArrayList<>();
        records.add(zone.soa());
        for (RRset rrset : zone.rrsets()) {
            if (rrset.getType() != Type.SOA) {
                records.addAll(rrset.rrs(false));
            }
        }
        records.add(zone.soa());
        return split(query, records);
    }

    /**
     * {@code records} in the answer sections of as few messages of at most {@value #MESSAGE_SIZE}
     * bytes as they fill. A message is rendered (compression done) only when the records added
     * since its last rendering could, uncompressed, have taken it past the size: a few renderings
     * per message rather than one per record.
     */
    private static List<Message> split(Message query, List<Record> records) {
        List<Message> messages = new ArrayList<>();
        Message current = start(query, true);
        int count = 0;
        int bound = current.toWire().length; // no smaller than the message's rendered size
        for (Record r : records) {
            current.addRecord(r, Section.ANSWER);
            count++;
            bound += r.toWire(Section.ANSWER).length;
            if (count > 1 && bound > MESSAGE_SIZE) {
                bound = current.toWire().length;
                if (bound > MESSAGE_SIZE) {
                    current.removeRecord(r, Section.ANSWER);
                    messages.add(current);
                    current = start(query, false);
                    current.addRecord(r, Section.ANSWER);
                    count = 1;
                    bound = current.toWire().length;
                }
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
