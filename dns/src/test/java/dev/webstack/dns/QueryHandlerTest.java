package dev.webstack.dns;

import static dev.webstack.dns.TestZones.parse;
import static dev.webstack.dns.TestZones.query;
import static dev.webstack.dns.TestZones.section;
import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.dns.QueryHandler.Transport;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** The answer logic and the wire handling, in memory, against the real foobar.com zone and the test zone. */
class QueryHandlerTest {
    private static QueryHandler handler;

    @BeforeAll
    static void loadZones() {
        handler = TestZones.handler();
    }

    private static Message ask(Message query, Transport transport) {
        byte[] wire = handler.handle(query.toWire(), transport).orElseThrow(() -> new AssertionError("no response"));
        Message response = parse(wire);
        assertThat(response.getHeader().getID()).as("id").isEqualTo(query.getHeader().getID());
        assertThat(response.getHeader().getFlag(Flags.QR)).as("QR").isTrue();
        assertThat(response.getHeader().getFlag(Flags.RA)).as("RA: no recursion offered").isFalse();
        return response;
    }

    private static Message ask(String name, int type) {
        return ask(query(name, type), Transport.UDP);
    }

    private static Message withEdns(Message query, int payload, int version) {
        query.addRecord(new OPTRecord(payload, 0, version), Section.ADDITIONAL);
        return query;
    }

    // --- foobar.com, the real zone

    @Test
    void wwwIsTheApexCnameFollowedToItsAddress() {
        Message r = ask("www.foobar.com", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(r.getHeader().getFlag(Flags.AA)).as("AA").isTrue();
        assertThat(section(r, Section.ANSWER)).containsExactly(
                "www.foobar.com. 300 CNAME foobar.com.",
                "foobar.com. 300 A 127.0.0.1");
        assertThat(section(r, Section.AUTHORITY)).as("the zone's NS, as NSD sends it").containsExactly(
                "foobar.com. 300 NS ns1.foobar.com.");
        assertThat(section(r, Section.ADDITIONAL)).containsExactly("ns1.foobar.com. 300 A 127.0.0.1");
    }

    @Test
    void questionNameKeepsTheCaseTheClientWrote() {
        Message r = ask("wWw.FooBar.COM", Type.A);

        assertThat(r.getQuestion().getName().toString()).isEqualTo("wWw.FooBar.COM.");
        assertThat(section(r, Section.ANSWER)).hasSize(2);
    }

    @Test
    void rdIsCopiedFromTheQuery() {
        Message withRd = query("foobar.com", Type.A);
        Message withoutRd = query("foobar.com", Type.A);
        withoutRd.getHeader().unsetFlag(Flags.RD);

        assertThat(ask(withRd, Transport.UDP).getHeader().getFlag(Flags.RD)).isTrue();
        assertThat(ask(withoutRd, Transport.UDP).getHeader().getFlag(Flags.RD)).isFalse();
    }

    @Test
    void unknownNameIsNxdomainWithTheSoa() {
        Message r = ask("nope.foobar.com", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(r.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(section(r, Section.ANSWER)).isEmpty();
        assertThat(section(r, Section.AUTHORITY)).containsExactly(
                "foobar.com. 300 SOA ns1.foobar.com. hostmaster.foobar.com. 2026112501 3600 900 1209600 300");
    }

    @Test
    void missingTypeIsNodataWithTheSoa() {
        Message r = ask("foobar.com", Type.AAAA);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(r.getHeader().getFlag(Flags.AA)).isTrue();
        assertThat(section(r, Section.ANSWER)).isEmpty();
        assertThat(section(r, Section.AUTHORITY)).singleElement().asString().startsWith("foobar.com. 300 SOA ");
    }

    @Test
    void apexNsAndMxComeWithTheTargetsAddresses() {
        Message ns = ask("foobar.com", Type.NS);
        Message mx = ask("foobar.com", Type.MX);

        assertThat(section(ns, Section.ANSWER)).containsExactly("foobar.com. 300 NS ns1.foobar.com.");
        assertThat(section(ns, Section.AUTHORITY)).as("not repeated in authority").isEmpty();
        assertThat(section(ns, Section.ADDITIONAL)).containsExactly("ns1.foobar.com. 300 A 127.0.0.1");
        assertThat(section(mx, Section.ANSWER)).containsExactly("foobar.com. 300 MX 10 mail.foobar.com.");
        assertThat(section(mx, Section.ADDITIONAL)).containsExactly("mail.foobar.com. 300 A 127.0.0.1",
                "ns1.foobar.com. 300 A 127.0.0.1");
    }

    @Test
    void anyIsAnsweredWithOneRrset() {
        Message r = ask("foobar.com", Type.ANY);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(r.getSectionRRsets(Section.ANSWER)).hasSize(1);
    }

    @Test
    void namesOutsideTheZonesAreRefused() {
        Message r = ask("example.org", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(r.getHeader().getFlag(Flags.AA)).isFalse();
        assertThat(section(r, Section.ANSWER)).isEmpty();
    }

    @Test
    void classesOtherThanInAndZoneTransfersAreRefused() {
        assertThat(ask(query("foobar.com", Type.TXT, DClass.CH), Transport.UDP).getRcode()).isEqualTo(Rcode.REFUSED);
        assertThat(ask(query("foobar.com", Type.AXFR), Transport.TCP).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    // --- example.test: the cases foobar.com does not have

    @Test
    void negativeTtlIsTheSmallerOfSoaTtlAndMinimum() {
        Message r = ask("nope.example.test", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(r.getSection(Section.AUTHORITY)).singleElement()
                .satisfies(soa -> assertThat(soa.getType()).isEqualTo(Type.SOA))
                .satisfies(soa -> assertThat(soa.getTTL()).isEqualTo(60));
    }

    @Test
    void emptyNonTerminalsExist() {
        for (String name : List.of("b.ent.example.test", "ent.example.test")) {
            Message r = ask(name, Type.A);
            assertThat(r.getRcode()).as(name).isEqualTo(Rcode.NOERROR);
            assertThat(section(r, Section.ANSWER)).as(name).isEmpty();
            assertThat(section(r, Section.AUTHORITY)).as(name).singleElement().asString().contains(" SOA ");
        }
        assertThat(section(ask("a.b.ent.example.test", Type.A), Section.ANSWER)).containsExactly("a.b.ent.example.test. 3600 A 192.0.2.7");
    }

    @Test
    void wildcardAnswersWithTheQueryName() {
        Message r = ask("anything.wild.example.test", Type.A);
        Message deeper = ask("x.y.wild.example.test", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(section(r, Section.ANSWER)).containsExactly("anything.wild.example.test. 3600 A 192.0.2.42");
        assertThat(section(deeper, Section.ANSWER)).containsExactly("x.y.wild.example.test. 3600 A 192.0.2.42");
    }

    @Test
    void wildcardDoesNotApplyToAnExistingNameNorBelowIt() {
        Message existing = ask("host.wild.example.test", Type.A);
        Message below = ask("x.host.wild.example.test", Type.A);

        assertThat(existing.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(section(existing, Section.ANSWER)).isEmpty();
        // RFC 4592 3.3.1: the closest encloser is host.wild, which has no wildcard child.
        assertThat(below.getRcode()).isEqualTo(Rcode.NXDOMAIN);
    }

    @Test
    void wildcardWithoutTheTypeIsNodata() {
        Message r = ask("anything.wild.example.test", Type.MX);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(section(r, Section.ANSWER)).isEmpty();
        assertThat(section(r, Section.AUTHORITY)).singleElement().asString().contains(" SOA ");
    }

    @Test
    void delegationIsAReferralWithGlue() {
        for (String name : List.of("sub.example.test", "www.sub.example.test")) {
            Message r = ask(name, Type.A);
            assertThat(r.getRcode()).as(name).isEqualTo(Rcode.NOERROR);
            assertThat(r.getHeader().getFlag(Flags.AA)).as(name + " AA").isFalse();
            assertThat(section(r, Section.ANSWER)).as(name).isEmpty();
            assertThat(section(r, Section.AUTHORITY)).as(name).containsExactlyInAnyOrder(
                    "sub.example.test. 3600 NS ns.sub.example.test.",
                    "sub.example.test. 3600 NS ns.elsewhere.net.");
            assertThat(section(r, Section.ADDITIONAL)).as(name).containsExactly("ns.sub.example.test. 3600 A 192.0.2.53");
        }
    }

    @Test
    void mxTargetAddressesAreAdditional() {
        Message r = ask("example.test", Type.MX);

        assertThat(section(r, Section.ANSWER)).containsExactly("example.test. 3600 MX 10 mail.example.test.");
        assertThat(section(r, Section.ADDITIONAL)).containsExactlyInAnyOrder(
                "mail.example.test. 3600 A 192.0.2.25",
                "mail.example.test. 3600 AAAA 2001:db8:0:0:0:0:0:25",
                "ns1.example.test. 3600 A 192.0.2.1");
    }

    @Test
    void optionalRecordsAreDroppedBeforeTheAnswerIsTruncated() {
        // medium: three TXT of about 210 bytes; with the zone's NS and glue it is a little larger.
        Message full = ask(withEdns(query("medium.example.test", Type.TXT), 4096, 0), Transport.TCP);
        Message stripped = parse(full.toWire());
        stripped.removeAllRecords(Section.AUTHORITY);
        stripped.removeAllRecords(Section.ADDITIONAL);
        stripped.addRecord(full.getOPT(), Section.ADDITIONAL);
        int answerOnly = stripped.toWire().length;
        Message lean = parse(QueryHandler.render(full, answerOnly));
        Message truncated = parse(QueryHandler.render(full, answerOnly - 1));

        assertThat(section(full, Section.AUTHORITY)).isNotEmpty();
        assertThat(lean.getHeader().getFlag(Flags.TC)).as("TC: the answer itself fits").isFalse();
        assertThat(section(lean, Section.ANSWER)).hasSize(3);
        assertThat(section(lean, Section.AUTHORITY)).isEmpty();
        assertThat(truncated.getHeader().getFlag(Flags.TC)).as("TC: one byte less").isTrue();
        assertThat(lean.getSection(Section.ADDITIONAL)).as("only the OPT").allMatch(r -> r instanceof OPTRecord);
    }

    @Test
    void cnameChainIsFollowedToTheEnd() {
        Message r = ask("c1.example.test", Type.A);

        assertThat(section(r, Section.ANSWER)).containsExactly(
                "c1.example.test. 3600 CNAME c2.example.test.",
                "c2.example.test. 3600 CNAME c3.example.test.",
                "c3.example.test. 3600 A 192.0.2.3");
    }

    @Test
    void cnameAskedForIsNotFollowed() {
        assertThat(section(ask("c1.example.test", Type.CNAME), Section.ANSWER))
                .containsExactly("c1.example.test. 3600 CNAME c2.example.test.");
    }

    @Test
    void cnameLoopStops() {
        Message r = ask("loop1.example.test", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(section(r, Section.ANSWER)).containsExactly(
                "loop1.example.test. 3600 CNAME loop2.example.test.",
                "loop2.example.test. 3600 CNAME loop1.example.test.");
    }

    @Test
    void cnameLeavingTheZonesIsAnsweredAsIs() {
        Message r = ask("away.example.test", Type.A);

        assertThat(r.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(section(r, Section.ANSWER)).containsExactly("away.example.test. 3600 CNAME www.elsewhere.net.");
    }

    @Test
    void cnameIntoAnotherServedZoneIsFollowed() {
        assertThat(section(ask("cross.example.test", Type.A), Section.ANSWER)).containsExactly(
                "cross.example.test. 3600 CNAME www.foobar.com.",
                "www.foobar.com. 300 CNAME foobar.com.",
                "foobar.com. 300 A 127.0.0.1");
    }

    // --- EDNS and sizes

    @Test
    void ednsQueryGetsAnOptWithTheServersPayloadSize() {
        Message r = ask(withEdns(query("foobar.com", Type.A), 4096, 0), Transport.UDP);

        assertThat(r.getOPT()).isNotNull();
        assertThat(r.getOPT().getPayloadSize()).isEqualTo(1232);
        assertThat(r.getOPT().getVersion()).isZero();
        assertThat(ask("foobar.com", Type.A).getOPT()).as("no OPT without EDNS").isNull();
    }

    @Test
    void theDoBitIsCopiedIntoTheOptWhichComesLast() {
        Message query = query("example.test", Type.MX);
        query.addRecord(new OPTRecord(1232, 0, 0, ExtendedFlags.DO), Section.ADDITIONAL);
        Message r = ask(query, Transport.UDP);

        assertThat(r.getOPT().getFlags() & ExtendedFlags.DO).as("DO (RFC 3225 section 3)").isEqualTo(ExtendedFlags.DO);
        assertThat(r.getSection(Section.ADDITIONAL)).as("additional records, OPT last").hasSizeGreaterThan(1).last().isInstanceOf(OPTRecord.class);
        assertThat(ask(withEdns(query("example.test", Type.MX), 1232, 0), Transport.UDP).getOPT().getFlags()).as("no DO asked").isZero();
    }

    @Test
    void unknownEdnsVersionIsBadvers() {
        Message r = ask(withEdns(query("foobar.com", Type.A), 4096, 1), Transport.UDP);

        assertThat(r.getRcode()).isEqualTo(Rcode.BADVERS);
        assertThat(r.getOPT().getVersion()).isZero();
        assertThat(section(r, Section.ANSWER)).isEmpty();
    }

    @Test
    void udpWithoutEdnsIsTruncatedAbove512Bytes() {
        Message r = ask("medium.example.test", Type.TXT);

        assertThat(r.getHeader().getFlag(Flags.TC)).as("TC").isTrue();
        assertThat(r.getHeader().getFlag(Flags.AA)).as("AA").isTrue();
        assertThat(r.getQuestion().getName().toString()).isEqualTo("medium.example.test.");
        assertThat(section(r, Section.ANSWER)).isEmpty();
    }

    @Test
    void udpWithEdnsFitsUpToTheSmallerOfBothSizes() {
        Message medium = ask(withEdns(query("medium.example.test", Type.TXT), 4096, 0), Transport.UDP);
        Message big = ask(withEdns(query("big.example.test", Type.TXT), 4096, 0), Transport.UDP);
        Message mediumSmallClient = ask(withEdns(query("medium.example.test", Type.TXT), 600, 0), Transport.UDP);

        assertThat(medium.getHeader().getFlag(Flags.TC)).as("medium TC").isFalse();
        assertThat(section(medium, Section.ANSWER)).hasSize(3);
        assertThat(big.getHeader().getFlag(Flags.TC)).as("big TC: above the server's 1232").isTrue();
        assertThat(big.getOPT()).as("OPT kept in a truncated answer").isNotNull();
        assertThat(mediumSmallClient.getHeader().getFlag(Flags.TC)).as("medium TC: above the client's 600").isTrue();
    }

    @Test
    void advertisedSizeBelow512CountsAs512() {
        Message r = ask(withEdns(query("foobar.com", Type.MX), 100, 0), Transport.UDP);

        assertThat(r.getHeader().getFlag(Flags.TC)).isFalse();
        assertThat(section(r, Section.ANSWER)).hasSize(1);
    }

    @Test
    void tcpIsNeverTruncated() {
        Message r = ask(query("big.example.test", Type.TXT), Transport.TCP);

        assertThat(r.getHeader().getFlag(Flags.TC)).isFalse();
        assertThat(section(r, Section.ANSWER)).hasSize(7);
    }

    // --- malformed and unusual queries

    @Test
    void responsesAreNotAnswered() {
        Message q = query("foobar.com", Type.A);
        q.getHeader().setFlag(Flags.QR);

        assertThat(handler.handle(q.toWire(), Transport.UDP)).isEmpty();
    }

    @Test
    void unknownOpcodeIsNotimpAndNotifyRefused() {
        for (int opcode : new int[] {Opcode.IQUERY, Opcode.STATUS, Opcode.NOTIFY, Opcode.UPDATE, 15}) {
            Message q = query("foobar.com", Type.SOA);
            q.getHeader().setOpcode(opcode);
            Message r = ask(q, Transport.UDP);
            assertThat(r.getRcode()).as("opcode " + opcode).isEqualTo(opcode == Opcode.NOTIFY ? Rcode.REFUSED : Rcode.NOTIMP);
            assertThat(r.getHeader().getOpcode()).as("opcode copied").isEqualTo(opcode);
        }
    }

    @Test
    void severalOptRecordsAnOptOutOfPlaceOrAnswersInTheQueryAreFormerrWithRdCopied() {
        Message twoOpts = query("foobar.com", Type.A);
        twoOpts.addRecord(new org.xbill.DNS.OPTRecord(1232, 0, 0), Section.ADDITIONAL);
        twoOpts.addRecord(new org.xbill.DNS.OPTRecord(512, 0, 0), Section.ADDITIONAL);
        Message answered = query("foobar.com", Type.A);
        answered.addRecord(new org.xbill.DNS.ARecord(org.xbill.DNS.Name.fromConstantString("foobar.com."), DClass.IN, 60,
                java.net.InetAddress.getLoopbackAddress()), Section.ANSWER);
        Message optInAuthority = query("foobar.com", Type.A);
        optInAuthority.addRecord(new org.xbill.DNS.OPTRecord(1232, 0, 0), Section.AUTHORITY);
        for (Message q : List.of(twoOpts, answered, optInAuthority)) {
            Message r = ask(q, Transport.UDP);
            assertThat(r.getRcode()).isEqualTo(Rcode.FORMERR);
            assertThat(r.getHeader().getFlag(Flags.RD)).isEqualTo(q.getHeader().getFlag(Flags.RD));
            assertThat(r.getSection(Section.QUESTION)).isEmpty();
        }
    }

    @Test
    void questionCountOtherThanOneIsFormerr() {
        Message none = new Message();
        Message two = query("foobar.com", Type.A);
        two.addRecord(Record.newRecord(org.xbill.DNS.Name.fromConstantString("www.foobar.com."), Type.A, DClass.IN), Section.QUESTION);

        assertThat(ask(none, Transport.UDP).getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(ask(two, Transport.UDP).getRcode()).isEqualTo(Rcode.FORMERR);
    }

    @Test
    void tooShortForAHeaderIsSilence() {
        assertThat(handler.handle(new byte[0], Transport.UDP)).isEmpty();
        assertThat(handler.handle(new byte[11], Transport.UDP)).isEmpty();
    }

    @Test
    void unparseableAfterTheHeaderIsFormerrWithTheId() throws Exception {
        byte[] truncatedQuestion = java.util.Arrays.copyOf(query("foobar.com", Type.A).toWire(), 20);

        Optional<byte[]> r = handler.handle(truncatedQuestion, Transport.UDP);

        Message response = parse(r.orElseThrow());
        assertThat(response.getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(response.getHeader().getID()).isEqualTo(new Header(truncatedQuestion).getID());
        assertThat(response.getHeader().getFlag(Flags.QR)).isTrue();
        assertThat(response.getHeader().getFlag(Flags.RD)).as("RD copied, as NSD does").isTrue();
    }

    @Test
    void aCompressionPointerInTheQuestionIsFormerr() {
        byte[] pointer = query("foobar.com", Type.A).toWire();
        pointer[12] = (byte) 0xC0; // the name points at the header: dnsjava would read a name out of it
        pointer[13] = 0;

        Message response = parse(handler.handle(pointer, Transport.TCP).orElseThrow());

        assertThat(response.getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(response.getSection(Section.QUESTION)).isEmpty();
    }

    @Test
    void compressionPointerLoopIsFormerr() {
        byte[] loop = Garbage.compressionLoop(0x1234);

        Message response = parse(handler.handle(loop, Transport.UDP).orElseThrow());

        assertThat(response.getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(response.getHeader().getID()).isEqualTo(0x1234);
    }

    @Test
    void randomBytesNeverThrowAndAnyResponseEchoesTheId() throws Exception {
        Random random = new Random(20261125);
        int answered = 0;
        for (int i = 0; i < 5_000; i++) {
            byte[] packet = new byte[random.nextInt(80)];
            random.nextBytes(packet);
            Optional<byte[]> r = handler.handle(packet, Transport.UDP);
            if (r.isPresent()) {
                answered++;
                Header h = new Header(r.get());
                assertThat(h.getID()).isEqualTo(new Header(packet).getID());
                assertThat(h.getFlag(Flags.QR)).isTrue();
                assertThat(h.getRcode()).isNotEqualTo(Rcode.SERVFAIL);
            }
        }
        assertThat(answered).as("some random packets are answered (FORMERR, NOTIMP, ...)").isPositive();
    }
}
