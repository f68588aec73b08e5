package dev.webstack.dns;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSIDOption;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Turns one DNS query in wire format into the response to send, or into nothing; knows no sockets.
 * The same instance serves UDP and TCP from every event-loop thread (it holds no mutable state).
 *
 * <table>
 *   <caption>What is answered how</caption>
 *   <tr><th>Query</th><th>Response</th></tr>
 *   <tr><td>shorter than the 12-byte header</td><td>nothing: there is no ID to answer</td></tr>
 *   <tr><td>QR set (a response)</td><td>nothing, so that two servers never answer each other</td></tr>
 *   <tr><td>header readable, rest not, or a compression pointer in the question's name</td><td>FORMERR
 *       with the query's ID and opcode, RD and CD copied, no question (as NSD answers)</td></tr>
 *   <tr><td>opcode NOTIFY</td><td>REFUSED: this server is only a primary (NSD refuses a NOTIFY that is
 *       not from its primary)</td></tr>
 *   <tr><td>other opcodes but QUERY</td><td>NOTIMP (RFC 1035 section 4.1.1)</td></tr>
 *   <tr><td>QDCOUNT other than 1</td><td>FORMERR, no flag copied (as NSD answers)</td></tr>
 *   <tr><td>several OPT records or one outside the additional section (RFC 6891 section 6.1.1), records
 *       in the answer section</td><td>FORMERR, RD and CD copied, as NSD answers</td></tr>
 *   <tr><td>EDNS version above 0</td><td>BADVERS with an OPT of version 0 (RFC 6891 section 6.1.3)</td></tr>
 *   <tr><td>class other than IN; AXFR or IXFR</td><td>REFUSED: one class; AXFR only over TCP, IXFR
 *       over TCP or UDP, to the clients {@link ZoneTransfer} allows, which answers them before this
 *       class sees them</td></tr>
 *   <tr><td>anything else</td><td>what {@link Authority} answers</td></tr>
 * </table>
 *
 * <p>The ID, opcode, RD and CD are copied from the query (RFC 1035, RFC 4035 section 3.1.6); RA
 * is never set: this server does not recurse. An EDNS query gets an OPT back, as the last record,
 * advertising {@code udpPayload}, with the query's DO bit (RFC 3225 section 3), the server's NSID
 * when the query asks for it and one is set (RFC 5001), and with a REFUSED the Extended DNS Error
 * that says why (RFC 8914: 20, Not Authoritative, for a name in none of the zones; 21, Not
 * Supported, for another class), as NSD answers. A UDP response is at most 512 bytes without EDNS, and with EDNS the client's
 * advertised size (never below 512) capped at {@code udpPayload} (RFC 6891 section 6.2.5, default
 * 1232 per DNS Flag Day 2020); over TCP it is at most 65535 bytes (RFC 7766). A response that does
 * not fit is replaced by its header with TC set, the question and the OPT, so that the client
 * retries over TCP (RFC 2181 section 9).
 *
 * <p>Nothing is thrown: an unexpected failure while answering is logged at debug level and
 * answered SERVFAIL.
 */
final class QueryHandler {
    private static final Logger log = LoggerFactory.getLogger(QueryHandler.class);

    /** Largest UDP response to a client without EDNS (RFC 1035 section 4.2.1). */
    static final int CLASSIC_UDP_SIZE = 512;
    /** Largest DNS message over TCP: the 2-byte length prefix (RFC 1035 section 4.2.2). */
    static final int TCP_SIZE = 65535;

    /** How the query arrived, which decides how large the response may be. */
    enum Transport { UDP, TCP }

    private static final int NO_EXTENDED_ERROR = -1;

    private final Authority authority;
    private final int udpPayload;
    private final byte[] nsid;

    /**
     * @param authority  the zones' answer logic
     * @param udpPayload largest UDP response to an EDNS client, at least 512
     */
    QueryHandler(Authority authority, int udpPayload) {
        this(authority, udpPayload, new byte[0]);
    }

    /**
     * @param nsid this server's identifier, given to a query that asks for it with an empty NSID
     *             option (RFC 5001); empty: none given
     */
    QueryHandler(Authority authority, int udpPayload, byte[] nsid) {
        if (udpPayload < CLASSIC_UDP_SIZE || udpPayload > TCP_SIZE) {
            throw new IllegalArgumentException("udpPayload: " + udpPayload + " (expected: 512-65535)");
        }
        this.authority = authority;
        this.udpPayload = udpPayload;
        this.nsid = nsid.clone();
    }

    /** The response to {@code query} in wire format, or empty when nothing should be sent. */
    Optional<byte[]> handle(byte[] query, Transport transport) {
        if (query.length < Header.LENGTH) {
            log.debug("dropped a {}-byte packet: shorter than a DNS header", query.length);
            return Optional.empty();
        }
        Header header;
        try {
            header = new Header(query);
        } catch (IOException e) {
            return Optional.empty(); // Not reached: 12 bytes always make a header.
        }
        if (header.getFlag(Flags.QR)) {
            log.debug("dropped a response (id {}) sent as a query", header.getID());
            return Optional.empty();
        }
        if (!plainQuestionName(query)) {
            log.debug("FORMERR for id {}: a compression pointer in the question's name", header.getID());
            return Optional.of(bare(header, Rcode.FORMERR).toWire());
        }
        Message message;
        try {
            message = new Message(query);
        } catch (IOException | RuntimeException e) {
            log.debug("FORMERR for id {}: {}", header.getID(), e.toString());
            return Optional.of(bare(header, Rcode.FORMERR).toWire());
        }
        try {
            Message response = respond(message);
            return Optional.of(render(response, sizeLimit(message, transport)));
        } catch (RuntimeException e) {
            log.debug("SERVFAIL for id {}: {}", header.getID(), e.toString(), e);
            return Optional.of(bare(header, Rcode.SERVFAIL).toWire());
        }
    }

    /** The complete response to a parsed query, before any size limit. */
    Message respond(Message query) {
        Message response = bare(query.getHeader(), Rcode.NOERROR);
        if (query.getHeader().getOpcode() == Opcode.NOTIFY) {
            // A primary only, which takes a NOTIFY from no one: refused, as NSD refuses one not from its primary.
            response.getHeader().setRcode(Rcode.REFUSED);
            return response;
        }
        if (query.getHeader().getOpcode() != Opcode.QUERY) {
            response.getHeader().setRcode(Rcode.NOTIMP);
            return response;
        }
        List<Record> questions = query.getSection(Section.QUESTION);
        if (questions.size() != 1) {
            return formerr(query.getHeader());
        }
        long optCount = query.getSection(Section.ADDITIONAL).stream().filter(r -> r instanceof OPTRecord).count();
        boolean optOutOfPlace = query.getSection(Section.AUTHORITY).stream().anyMatch(r -> r instanceof OPTRecord);
        if (optCount > 1 || optOutOfPlace || !query.getSection(Section.ANSWER).isEmpty()) {
            // Several OPT records, or one outside the additional section (RFC 6891 section 6.1.1),
            // or answers in a query: RD and CD copied, as NSD answers.
            response.getHeader().setRcode(Rcode.FORMERR);
            return response;
        }
        // The query's own Record: the name keeps the case the client wrote (RFC 4343 section 4.1).
        Record question = questions.get(0);
        response.addRecord(question, Section.QUESTION);
        OPTRecord opt = query.getOPT();
        if (opt != null && opt.getVersion() > 0) {
            response.addRecord(new OPTRecord(udpPayload, Rcode.BADVERS >>> 4, 0), Section.ADDITIONAL);
            response.getHeader().setRcode(Rcode.BADVERS & 0xF);
            return response;
        }
        int qtype = question.getType();
        int why = NO_EXTENDED_ERROR; // why a REFUSED is refused (RFC 8914), said as NSD says it
        if (question.getDClass() != DClass.IN) {
            response.getHeader().setRcode(Rcode.REFUSED);
            why = ExtendedErrorCodeOption.NOT_SUPPORTED;
        } else if (qtype == Type.AXFR || qtype == Type.IXFR) {
            response.getHeader().setRcode(Rcode.REFUSED);
        } else {
            authority.answer(question.getName(), qtype, response);
            if (response.getRcode() == Rcode.REFUSED) {
                why = ExtendedErrorCodeOption.NOT_AUTHORITATIVE; // a name in none of the zones
            }
        }
        if (opt != null) {
            // Last, so that the fast path finds the DO bit at a fixed distance from the end.
            response.addRecord(answerOpt(opt, why), Section.ADDITIONAL);
        }
        return response;
    }

    /**
     * The OPT record of an answer to a query that had {@code queryOpt}: {@code udpPayload}
     * advertised, the query's DO bit, and this server's NSID when the query asks for it and one is
     * set (RFC 5001 section 2.1: only then; other options are not answered).
     */
    OPTRecord answerOpt(OPTRecord queryOpt) {
        return answerOpt(queryOpt, NO_EXTENDED_ERROR);
    }

    /** {@link #answerOpt(OPTRecord)}, with the Extended DNS Error {@code why} unless it is {@link #NO_EXTENDED_ERROR}. */
    private OPTRecord answerOpt(OPTRecord queryOpt, int why) {
        List<EDNSOption> options = new ArrayList<>(2);
        if (nsid.length > 0 && !queryOpt.getOptions(EDNSOption.Code.NSID).isEmpty()) {
            options.add(new NSIDOption(nsid));
        }
        if (why != NO_EXTENDED_ERROR) {
            options.add(new ExtendedErrorCodeOption(why));
        }
        return new OPTRecord(udpPayload, 0, 0, queryOpt.getFlags() & ExtendedFlags.DO, options);
    }

    /** Largest response allowed for {@code query} on {@code transport}. */
    int sizeLimit(Message query, Transport transport) {
        if (transport == Transport.TCP) {
            return TCP_SIZE;
        }
        OPTRecord opt = query.getOPT();
        if (opt == null) {
            return CLASSIC_UDP_SIZE;
        }
        return Math.min(Math.max(opt.getPayloadSize(), CLASSIC_UDP_SIZE), udpPayload);
    }

    /**
     * The response itself if it fits in {@code limit} bytes; else without its optional records
     * (the additional section, then the authority section of a positive answer: RFC 2181 section
     * 9 says TC is for data that was required); else its truncated form with TC set: the header,
     * the question and the OPT.
     */
    static byte[] render(Message response, int limit) {
        byte[] wire = response.toWire();
        if (wire.length <= limit) {
            return wire;
        }
        Header full = response.getHeader();
        boolean positive = full.getRcode() == Rcode.NOERROR && !response.getSection(Section.ANSWER).isEmpty()
                && full.getFlag(Flags.AA);
        if (positive) {
            Message lean = copyOf(response, true, false);
            wire = lean.toWire();
            if (wire.length <= limit) {
                return wire;
            }
            wire = copyOf(response, false, false).toWire();
            if (wire.length <= limit) {
                return wire;
            }
        }
        Message truncated = bare(full, full.getRcode());
        if (full.getFlag(Flags.AA)) {
            truncated.getHeader().setFlag(Flags.AA);
        }
        truncated.getHeader().setFlag(Flags.TC);
        Record question = response.getQuestion();
        if (question != null) {
            truncated.addRecord(question, Section.QUESTION);
        }
        OPTRecord opt = response.getOPT();
        if (opt != null) {
            truncated.addRecord(opt, Section.ADDITIONAL);
        }
        return truncated.toWire();
    }

    /** {@code response} with its question and answer, optionally its authority, and only the OPT of its additional section. */
    private static Message copyOf(Message response, boolean authority, boolean additional) {
        Message copy = bare(response.getHeader(), response.getHeader().getRcode());
        if (response.getHeader().getFlag(Flags.AA)) {
            copy.getHeader().setFlag(Flags.AA);
        }
        response.getSection(Section.QUESTION).forEach(r -> copy.addRecord(r, Section.QUESTION));
        response.getSection(Section.ANSWER).forEach(r -> copy.addRecord(r, Section.ANSWER));
        if (authority) {
            response.getSection(Section.AUTHORITY).forEach(r -> copy.addRecord(r, Section.AUTHORITY));
        }
        for (Record r : response.getSection(Section.ADDITIONAL)) {
            if (additional || r instanceof OPTRecord) {
                copy.addRecord(r, Section.ADDITIONAL);
            }
        }
        return copy;
    }

    /**
     * Whether the first question's name, the first name of the message, is plain labels. A
     * compression pointer there could only point back into the header or into the name itself, so
     * there is none in a real query (NSD answers FORMERR too).
     */
    private static boolean plainQuestionName(byte[] query) {
        if ((query[4] | query[5]) == 0) {
            return true; // no question: answered FORMERR further on
        }
        int at = Header.LENGTH;
        while (at < query.length) {
            int length = query[at] & 0xff;
            if (length == 0) {
                return true;
            }
            if ((length & 0xC0) != 0) {
                return false; // a pointer, or one of the extended label types RFC 6891 retired
            }
            at += 1 + length;
        }
        return true; // cut short: the parser refuses it
    }

    /**
     * The answer to a query whose QDCOUNT is not 1: its ID and opcode, QR set, nothing else (as NSD
     * answers it; other format errors copy RD and CD, see {@link #bare}).
     */
    private static Message formerr(Header query) {
        Message response = new Message(query.getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setOpcode(query.getOpcode());
        response.getHeader().setRcode(Rcode.FORMERR);
        return response;
    }

    /** A response with the query's ID and opcode, QR set, RD and CD copied, and {@code rcode}. */
    private static Message bare(Header query, int rcode) {
        Message response = new Message(query.getID());
        Header h = response.getHeader();
        h.setFlag(Flags.QR);
        h.setOpcode(query.getOpcode());
        for (int flag : new int[] {Flags.RD, Flags.CD}) {
            if (query.getFlag(flag)) {
                h.setFlag(flag);
            }
        }
        h.setRcode(rcode);
        return response;
    }
}
