package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.GenericEDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSIDOption;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Differential conformance: the same queries to NSD (Debian's package, the reference
 * authoritative server) and to webstack, both serving the same zone files; the rcode, the header
 * flags and the sections (order-insensitive) must match.
 *
 * <p>Skipped, with a message, only when the {@code nsd} binary is not installed ({@code .ci/run}
 * installs it). NSD runs in the foreground on a free loopback port, RRL off, one server process.
 *
 * <p>The queries (over 400, each over UDP or TCP): every type of the zones (A, AAAA, CNAME, NS, SOA,
 * MX, TXT, SRV, CAA, PTR) at names that exist, do not exist, are empty non-terminals, wildcard
 * matches, CNAME chains, delegations with glue, in four zones (one with an {@code $INCLUDE}, one
 * whose SOA TTL is below its MINIMUM, a reverse zone); case variants; EDNS off and with sizes 0 to
 * 65535 and the DO bit; answers that must be truncated or trimmed; QDCOUNT 0 and 2; other opcodes,
 * classes and EDNS versions; and, separately, all of them pipelined on one TCP connection. Then
 * 156 more: types the zones do not hold (DNSSEC's, HINFO, NAPTR, HTTPS, unassigned and private
 * numbers) and meta types as QTYPE (OPT, TSIG, TKEY, MAILA, MAILB) at six kinds of names.
 *
 * <p>Deliberate differences (see {@link #DELIBERATE}): for these only webstack's rcode is checked.
 * <ul>
 *   <li>ANY: both answer with one RRset (RFC 8482 section 4.1), but not the same one: NSD picks
 *       the SOA at the apex (and over TCP may send more), webstack the RRset of the lowest type
 *       code. Only the header is compared, and that webstack's answer is a single RRset.
 *   <li>The OPT record's advertised UDP size: webstack advertises {@code dns.udp-payload}; NSD its
 *       own setting. Only the OPT's presence, version, DO bit, extended rcode and options are compared.
 *   <li>QDCOUNT 0 over TCP: NSD closes the connection; webstack answers FORMERR, as over UDP.
 *   <li>Classes other than IN and CH (HS, NONE, unassigned): both REFUSED, but NSD leaves the
 *       question out; webstack echoes it, as in every other answer (and as BIND does).
 *   <li>QCLASS * (ANY): NSD answers the IN data without AA; webstack serves one class and refuses
 *       every other, the wildcard class included.
 *   <li>CD: webstack copies it into the response (RFC 4035 section 3.1.6: "MUST copy"); NSD 4.6,
 *       which does no DNSSEC, clears it.
 * </ul>
 */
class NsdConformanceTest {
    /** The identifier both servers give a query that asks for it (NSID). */
    private static final String NSID = "ns1.conformance.test";
    private static final Path NSD = Path.of("/usr/sbin/nsd");
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int TIMEOUT_MS = 3000;

    @TempDir
    static Path dir;

    private static Process nsd;
    private static int nsdPort;
    private static DnsServer webstack;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(NSD),
                "nsd is not installed (apt-get install nsd; .ci/run installs it): the differential test against NSD is skipped");
        // RRL off as for NSD below; transfers allowed to loopback, for NSD as a secondary.
        List<DnsConfig.Zone> zones = new ArrayList<>(TestZones.config(new HostPort("127.0.0.1", 0)).zones());
        zones.addAll(extraZones(dir.resolve("zones")));
        // Both name themselves to a query that asks (NSID, RFC 5001) with the same identifier.
        DnsConfig c = new DnsConfig(new HostPort("127.0.0.1", 0), zones, 1232);
        webstack = DnsServer.start(new DnsConfig(c.addresses(), c.zones(), c.udpPayload(), c.rateLimit(), c.transferTo(), c.notifyTargets(),
                        c.healthChecks(), c.tsig(), c.metrics(), c.udpReaders(), c.cpuAffinity(), c.tcpConnections(), NSID),
                DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)));
        nsdPort = freePort();
        // Both let loopback transfer, so that IXFR over UDP is compared too.
        nsd = startNsd(dir.resolve("primary"), nsdPort, zones.stream().map(z -> """
                zone:
                  name: %s
                  zonefile: "%s"
                  provide-xfr: 127.0.0.1 NOKEY
                """.formatted(z.origin(), z.file().toAbsolutePath().normalize())).collect(Collectors.joining()));
        awaitAnswer(nsd, nsdPort, "foobar.com.", dir.resolve("primary"));
    }

    /**
     * Two zones beside the test zones, written for this test: {@code more.test} has SRV (with an
     * in-zone and an outside target), CAA, a SOA whose TTL (30) is below its MINIMUM (3600), and an
     * {@code $INCLUDE} with a multi-line record; {@code 2.0.192.in-addr.arpa} has PTR records.
     */
    private static List<DnsConfig.Zone> extraZones(Path zonesDir) throws IOException {
        Files.createDirectories(zonesDir);
        Path include = zonesDir.resolve("more.test.include");
        Files.writeString(include, """
                ; included by more.test.zone, with its $ORIGIN
                inc     IN A    192.0.2.62
                multi   IN TXT  ( "a record"
                                  "on two lines" )
                """);
        Path more = zonesDir.resolve("more.test.zone");
        Files.writeString(more, """
                $ORIGIN more.test.
                $TTL 600
                @  30   IN SOA  ns1 hostmaster ( 1 7200 900 1209600 3600 ) ; negative TTL: the SOA's 30
                @       IN NS   ns1
                ns1     IN A    192.0.2.60
                ns1     IN AAAA 2001:db8::60
                @       IN CAA  0 issue "letsencrypt.org"
                @       IN CAA  0 iodef "mailto:security@more.test"
                _sip._tcp IN SRV 10 60 5060 sip
                _sip._tcp IN SRV 20 10 5060 sip.elsewhere.net.
                sip     IN A    192.0.2.61
                $INCLUDE %s
                """.formatted(include.toAbsolutePath()));
        Path reverse = zonesDir.resolve("2.0.192.in-addr.arpa.zone");
        Files.writeString(reverse, """
                $ORIGIN 2.0.192.in-addr.arpa.
                $TTL 3600
                @       IN SOA  ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 60
                @       IN NS   ns1.example.test.
                1       IN PTR  ns1.example.test.
                10      IN PTR  example.test.
                60      IN PTR  ns1.more.test.
                61      IN PTR  sip.more.test.
                """);
        return List.of(new DnsConfig.Zone("more.test.", more), new DnsConfig.Zone("2.0.192.in-addr.arpa.", reverse));
    }

    /** Starts NSD in the foreground with its files in {@code home}, RRL off, one server process. */
    private static Process startNsd(Path home, int port, String zones) throws IOException {
        Files.createDirectories(home);
        Path conf = home.resolve("nsd.conf");
        Files.writeString(conf, """
                server:
                  ip-address: 127.0.0.1@%1$d
                  port: %1$d
                  username: ""
                  chroot: ""
                  zonesdir: "%2$s"
                  database: ""
                  pidfile: "%2$s/nsd.pid"
                  xfrdfile: "%2$s/xfrd.state"
                  zonelistfile: "%2$s/zone.list"
                  logfile: "%2$s/nsd.log"
                  server-count: 1
                  verbosity: 1
                  rrl-ratelimit: 0
                  rrl-whitelist-ratelimit: 0
                  nsid: "ascii_%3$s"
                remote-control:
                  control-enable: no
                """.formatted(port, home, NSID) + zones);
        return new ProcessBuilder(NSD.toString(), "-d", "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(home.resolve("nsd.out").toFile()).start();
    }

    /** Waits until {@code zone}'s SOA is answered authoritatively; bounded to about 15 s. */
    private static void awaitAnswer(Process process, int port, String zone, Path home) throws IOException {
        for (int i = 0; i < 60; i++) {
            try {
                Message m = new Message(udp(port, ResponderTest.query(zone, Type.SOA, -1, false, false, 1)));
                if (m.getRcode() == Rcode.NOERROR && m.getHeader().getFlag(Flags.AA)) {
                    return;
                }
                sleep(250);
            } catch (SocketTimeoutException e) {
                // not up yet
            }
            assertThat(process.isAlive()).as("nsd running: " + Files.readString(home.resolve("nsd.out"))).isTrue();
        }
        throw new AssertionError("nsd on port " + port + " does not serve " + zone + ": " + Files.readString(home.resolve("nsd.out"))
                + Files.readString(home.resolve("nsd.log")));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (webstack != null) {
            webstack.close();
        }
        if (nsd != null) {
            nsd.destroy();
            if (!nsd.waitFor(5, TimeUnit.SECONDS)) {
                nsd.destroyForcibly();
            }
        }
    }

    /** A query in wire format, what it is, and how it is sent. */
    record Case(String label, byte[] query, int type, boolean tcp) {
        /** A query for {@code name}, RD set, with an OPT of size {@code edns} (none when negative). */
        static Case of(String name, int type, int edns, boolean tcp) {
            return new Case(name + " " + Type.string(type) + (edns < 0 ? "" : " edns=" + edns), ResponderTest.query(name, type, edns, true, false, 4242), type, tcp);
        }

        /** A query built by hand, e.g. one the server must refuse or reject. */
        static Case raw(String label, Message query, boolean tcp) {
            Record question = query.getQuestion();
            return new Case(label, query.toWire(), question == null ? 0 : question.getType(), tcp);
        }

        @Override
        public String toString() {
            return label + (tcp ? " tcp" : " udp");
        }
    }

    /** A documented difference from NSD: the rcode webstack answers with, and why it differs. */
    record Deliberate(int rcode, String reason) {}

    /** Documented deliberate differences by case label (see the class comment). */
    private static final Map<String, Deliberate> DELIBERATE = Map.of(
            "QDCOUNT 0", new Deliberate(Rcode.FORMERR, "NSD closes a TCP connection on it; FORMERR as over UDP"),
            "class HS", new Deliberate(Rcode.REFUSED, "webstack echoes the question"),
            "class NONE", new Deliberate(Rcode.REFUSED, "webstack echoes the question"),
            "class CLASS2", new Deliberate(Rcode.REFUSED, "webstack echoes the question"),
            "class ANY", new Deliberate(Rcode.REFUSED, "one class served, every other refused"),
            "CD", new Deliberate(Rcode.NOERROR, "RFC 4035 section 3.1.6: CD is copied"));

    private static final String ANY_REASON = "RFC 8482: each server picks its own RRset for ANY";

    @Test
    void answersAsNsdDoes() throws IOException {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThanOrEqualTo(200);
        assertThat(differences(cases, nsdPort)).as("differences from NSD in " + cases.size() + " queries").isEmpty();
    }

    @Test
    void everyOtherQueryTypeIsAnsweredAsNsdAnswersIt() throws IOException {
        List<Case> cases = otherTypes();
        assertThat(differences(cases, nsdPort)).as("differences from NSD in " + cases.size() + " queries").isEmpty();
    }

    /**
     * Transfers asked by a client allowed to transfer, each answered in one message here: IXFR over
     * UDP (RFC 1995 section 2) and over TCP, from a serial behind, equal to and ahead of the zone's,
     * and AXFR over TCP, with and without EDNS: the whole zone, or the SOA alone, with RD copied
     * and an OPT record when the query had one, as NSD answers. (A zone too large for one datagram
     * is answered differently over UDP: NSD sends the part of the transfer that fits, webstack the
     * SOA alone, as the RFC says.)
     */
    @Test
    void transfersToASecondaryAreAnsweredAsNsdAnswersThem() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String zone : List.of("foobar.com.", "more.test.", "2.0.192.in-addr.arpa.")) {
            Name origin = Name.fromString(zone);
            Message soaAnswer = send(webstack.port(), ResponderTest.query(zone, Type.SOA, -1, false, false, 1), false).orElseThrow();
            SOARecord soa = (SOARecord) soaAnswer.getSection(Section.ANSWER).getFirst();
            for (int edns : new int[] {-1, 1232}) {
                for (long theirs : new long[] {soa.getSerial() - 1, soa.getSerial(), soa.getSerial() + 1}) {
                    Message query = Message.newQuery(Record.newRecord(origin, Type.IXFR, DClass.IN));
                    query.addRecord(new SOARecord(origin, DClass.IN, 0, soa.getHost(), soa.getAdmin(), theirs, 0, 0, 0, 0), Section.AUTHORITY);
                    withEdns(query, edns);
                    for (boolean tcp : new boolean[] {false, true}) {
                        cases.add(Case.raw(zone + " IXFR from serial " + theirs + (edns < 0 ? "" : " edns=" + edns), query, tcp));
                    }
                }
                Message axfr = withEdns(Message.newQuery(Record.newRecord(origin, Type.AXFR, DClass.IN)), edns);
                cases.add(Case.raw(zone + " AXFR" + (edns < 0 ? "" : " edns=" + edns), axfr, true));
            }
        }
        assertThat(differences(cases, nsdPort)).as("differences from NSD in " + cases.size() + " queries").isEmpty();
        for (Case c : cases) {
            // The comparison above takes each section as a set: the SOA that opens and closes a whole zone is counted here.
            assertThat(send(webstack.port(), c.query(), c.tcp()).orElseThrow().getSection(Section.ANSWER))
                    .as(c.toString()).hasSameSizeAs(send(nsdPort, c.query(), c.tcp()).orElseThrow().getSection(Section.ANSWER));
        }
    }

    private static Message withEdns(Message query, int edns) {
        if (edns >= 0) {
            query.addRecord(new OPTRecord(edns, 0, 0), Section.ADDITIONAL);
        }
        return query;
    }

    /**
     * Types the zones do not hold (DNSSEC, HINFO, NAPTR, HTTPS, unassigned and private numbers) and
     * the meta types (OPT, TSIG, TKEY, MAILA, MAILB) as QTYPE, at an apex, a name with data, a
     * wildcard, below a delegation and a name that does not exist.
     */
    private static List<Case> otherTypes() {
        int[] types = {Type.HINFO, Type.NULL, Type.NAPTR, Type.LOC, Type.DS, Type.RRSIG, Type.NSEC, Type.DNSKEY, Type.NSEC3,
                Type.TLSA, Type.SSHFP, Type.HTTPS, Type.SVCB, Type.URI, Type.DNAME, Type.SPF, 0, 53, 260, 65280, 65535,
                Type.OPT, Type.TSIG, Type.TKEY, Type.MAILA, Type.MAILB};
        Random random = new Random(5155);
        List<Case> cases = new ArrayList<>();
        for (String name : List.of("example.test.", "www.foobar.com.", "x.wild.example.test.", "deep.in.sub.example.test.",
                "missing.example.test.", "sub.example.test.")) {
            for (int type : types) {
                int edns = new int[] {-1, 512, 1232, 4096}[random.nextInt(4)];
                cases.add(Case.of(random.nextBoolean() ? ResponderTest.mixedCase(name, random) : name, type, edns, random.nextInt(4) == 0));
            }
        }
        return cases;
    }

    @Test
    void queriesPipelinedOnOneTcpConnectionAreAnsweredAsNsdAnswersThem() throws IOException {
        List<Case> cases = cases().stream().filter(c -> c.type() != Type.ANY && !DELIBERATE.containsKey(c.label())).toList();
        List<byte[]> queries = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            byte[] query = cases.get(i).query().clone();
            query[0] = (byte) (i >> 8);
            query[1] = (byte) i;
            queries.add(query);
        }
        List<Message> expected = pipelined(nsdPort, queries);
        List<Message> actual = pipelined(webstack.port(), queries);
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < queries.size(); i++) {
            assertThat(actual.get(i).getHeader().getID()).as("answers in the order of the queries").isEqualTo(i);
            if (!summary(expected.get(i)).equals(summary(actual.get(i)))) {
                differences.add(cases.get(i) + " (pipelined)\n  nsd:      " + summary(expected.get(i)) + "\n  webstack: " + summary(actual.get(i)));
            }
        }
        assertThat(differences).as("differences from NSD in " + queries.size() + " pipelined queries").isEmpty();
    }

    /** Writes all of {@code queries} on one connection, then reads as many answers. */
    private static List<Message> pipelined(int port, List<byte[]> queries) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
            for (byte[] query : queries) {
                out.writeShort(query.length);
                out.write(query);
            }
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            List<Message> answers = new ArrayList<>();
            for (int i = 0; i < queries.size(); i++) {
                byte[] answer = new byte[in.readUnsignedShort()];
                in.readFully(answer);
                answers.add(new Message(answer));
            }
            return answers;
        }
    }

    @Test
    void nsdAsASecondaryTransfersTheZonesFromWebstackAndAnswersTheSame() throws IOException, InterruptedException {
        int port = freePort();
        Path home = dir.resolve("secondary");
        String primary = "127.0.0.1@" + webstack.port();
        Process secondary = startNsd(home, port, """
                zone:
                  name: foobar.com
                  zonefile: "foobar.com.zone"
                  request-xfr: AXFR %1$s NOKEY
                  allow-notify: 127.0.0.1 NOKEY
                zone:
                  name: example.test
                  zonefile: "example.test.zone"
                  request-xfr: AXFR %1$s NOKEY
                  allow-notify: 127.0.0.1 NOKEY
                zone:
                  name: more.test
                  zonefile: "more.test.zone"
                  request-xfr: AXFR %1$s NOKEY
                zone:
                  name: 2.0.192.in-addr.arpa
                  zonefile: "reverse.zone"
                  request-xfr: AXFR %1$s NOKEY
                """.formatted(primary));
        try {
            awaitAnswer(secondary, port, "foobar.com.", home);
            awaitAnswer(secondary, port, "example.test.", home);
            awaitAnswer(secondary, port, "more.test.", home);
            awaitAnswer(secondary, port, "2.0.192.in-addr.arpa.", home);
            // A NOTIFY is answered by how each is configured: the secondary takes it from its primary.
            List<Case> cases = cases().stream().filter(c -> !c.label().startsWith("opcode NOTIFY")).toList();
            assertThat(differences(cases, port)).as("differences from NSD serving the transferred zones").isEmpty();
        } finally {
            stop(secondary);
        }
    }

    @Test
    void afterAReloadWebstackNotifiesNsdWhichTransfersTheNewSerial() throws IOException, InterruptedException {
        String original = Files.readString(TestZones.EXAMPLE);
        Path zoneFile = copyOfExampleZone("notify");
        int port = freePort();
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", zoneFile)), 1232);
        Path home = dir.resolve("notified");
        try (DnsServer primary = DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF)
                .withTransferClients(Set.of(LOOPBACK)).withNotifyTargets(List.of(new InetSocketAddress(LOOPBACK, port))))) {
            Process secondary = startNsd(home, port, """
                    zone:
                      name: example.test
                      zonefile: "example.test.zone"
                      request-xfr: 127.0.0.1@%d NOKEY
                      allow-notify: 127.0.0.1 NOKEY
                    """.formatted(primary.port()));
            try {
                // NSD's default: AXFR the first time, IXFR once it holds the zone; webstack answers
                // each IXFR with the difference from the serial NSD holds (ZoneHistory).
                awaitAnswer(secondary, port, "example.test.", home);
                assertThat(serial(port)).isEqualTo(1);

                Files.writeString(zoneFile, original.replace("\n                1 7200", "\n                2 7200")
                        + "added IN A 192.0.2.77\n");
                ZoneReload reload = primary.reload();
                assertThat(reload.toString()).contains("example.test. updated (serial 1 -> 2)");

                // NSD answers NOTIFY, asks for the SOA, transfers: bounded to about 15 s, no timing asserted.
                awaitSerial(port, 2);
                assertThat(serial(port)).as("serial at the secondary after NOTIFY").isEqualTo(2);
                Message added = new Message(udp(port, ResponderTest.query("added.example.test.", Type.A, -1, false, false, 3)));
                assertThat(records(added, Section.ANSWER)).containsExactly("added.example.test. 3600 A 192.0.2.77");

                // Serial 3: a record deleted, another added, a TTL changed; NSD applies the
                // difference it is sent.
                Files.writeString(zoneFile, original.replace("\n                1 7200", "\n                3 7200")
                        .replace("ns1     IN A    192.0.2.1\n", "ns1 300 IN A    192.0.2.1\n") + "again IN A 192.0.2.78\n");
                assertThat(primary.reload().toString()).contains("example.test. updated (serial 2 -> 3)");
                awaitSerial(port, 3);
                assertThat(serial(port)).as("serial at the secondary after an incremental transfer: "
                        + Files.readString(home.resolve("nsd.log"))).isEqualTo(3);
                Message gone = new Message(udp(port, ResponderTest.query("added.example.test.", Type.A, -1, false, false, 4)));
                assertThat(gone.getRcode()).as("deleted by the difference").isEqualTo(org.xbill.DNS.Rcode.NXDOMAIN);
                Message again = new Message(udp(port, ResponderTest.query("again.example.test.", Type.A, -1, false, false, 5)));
                assertThat(records(again, Section.ANSWER)).containsExactly("again.example.test. 3600 A 192.0.2.78");
                Message ns1 = new Message(udp(port, ResponderTest.query("ns1.example.test.", Type.A, -1, false, false, 6)));
                assertThat(records(ns1, Section.ANSWER)).containsExactly("ns1.example.test. 300 A 192.0.2.1");
            } finally {
                stop(secondary);
            }
        }
    }

    @Test
    void withATsigKeyNsdIsNotifiedAndTransfersSignedAndReloadsTheNewSerial() throws IOException, InterruptedException {
        String original = Files.readString(TestZones.EXAMPLE);
        Path zoneFile = copyOfExampleZone("tsig");
        int port = freePort();
        // What `tsig-keygen -a hmac-sha256 xfr.example.test.` prints as its secret (32 random bytes, base64).
        String secret = java.util.Base64.getEncoder().encodeToString(new java.security.SecureRandom().generateSeed(32));
        DnsConfig.TsigKey key = new DnsConfig.TsigKey("xfr.example.test.", "hmac-sha256", secret);
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", zoneFile)), 1232);
        InetSocketAddress target = new InetSocketAddress(LOOPBACK, port);
        Path home = dir.resolve("tsig-secondary");
        try (DnsServer primary = DnsServer.start(config, new DnsOptions(RateLimit.OFF, Set.of(LOOPBACK), List.of(target),
                java.util.Map.of(LOOPBACK, DnsOptions.tsig(key)), java.util.Map.of(target, DnsOptions.tsig(key))))) {
            Process secondary = startNsd(home, port, """
                    key:
                      name: "xfr.example.test."
                      algorithm: hmac-sha256
                      secret: "%s"
                    zone:
                      name: example.test
                      zonefile: "example.test.zone"
                      request-xfr: AXFR 127.0.0.1@%d xfr.example.test.
                      allow-notify: 127.0.0.1 xfr.example.test.
                    """.formatted(secret, primary.port()));
            try {
                awaitAnswer(secondary, port, "example.test.", home);
                assertThat(serial(port)).isEqualTo(1);

                // Large enough for a transfer of several messages, each signed over the one before.
                StringBuilder many = new StringBuilder();
                for (int i = 0; i < 2000; i++) {
                    many.append("host-").append(i).append(" IN A 198.51.100.").append(i % 250 + 1).append('\n');
                }
                Files.writeString(zoneFile, original.replace("\n                1 7200", "\n                2 7200")
                        + "signed IN A 192.0.2.78\n" + many);
                assertThat(primary.reload().toString()).contains("example.test. updated (serial 1 -> 2)");
                awaitSerial(port, 2);
                assertThat(serial(port)).as("serial at the secondary after a signed NOTIFY and transfer: "
                        + Files.readString(home.resolve("nsd.log"))).isEqualTo(2);
                Message added = new Message(udp(port, ResponderTest.query("signed.example.test.", Type.A, -1, false, false, 3)));
                assertThat(records(added, Section.ANSWER)).containsExactly("signed.example.test. 3600 A 192.0.2.78");
                Message last = new Message(udp(port, ResponderTest.query("host-1999.example.test.", Type.A, -1, false, false, 4)));
                assertThat(records(last, Section.ANSWER)).containsExactly("host-1999.example.test. 3600 A 198.51.100.250");
            } finally {
                stop(secondary);
            }
        }
    }

    /** The example zone copied into {@code folder}, for a test that changes it. */
    private static Path copyOfExampleZone(String folder) throws IOException {
        Path zoneFile = dir.resolve(folder + "/example.test.zone");
        Files.createDirectories(zoneFile.getParent());
        return Files.copy(TestZones.EXAMPLE, zoneFile);
    }

    /** Waits until the secondary on {@code port} serves {@code serial}; bounded to about 15 s, no timing asserted. */
    private static void awaitSerial(int port, long serial) throws IOException {
        for (int i = 0; i < 60 && serial(port) != serial; i++) {
            sleep(250);
        }
    }

    private static void stop(Process secondary) throws InterruptedException {
        secondary.destroy();
        if (!secondary.waitFor(5, TimeUnit.SECONDS)) {
            secondary.destroyForcibly();
        }
    }

    private static long serial(int port) throws IOException {
        Message m = new Message(udp(port, ResponderTest.query("example.test.", Type.SOA, -1, false, false, 2)));
        return m.getSection(Section.ANSWER).stream().filter(r -> r instanceof org.xbill.DNS.SOARecord)
                .mapToLong(r -> ((org.xbill.DNS.SOARecord) r).getSerial()).findFirst().orElse(-1);
    }

    private static List<String> differences(List<Case> cases, int nsdPort) throws IOException {
        List<String> differences = new ArrayList<>();
        int compared = 0;
        for (Case c : cases) {
            byte[] query = c.query();
            Optional<Message> nsdAnswer = send(nsdPort, query, c.tcp());
            Optional<Message> webstackAnswer = send(webstack.port(), query, c.tcp());
            Deliberate deliberate = DELIBERATE.get(c.label());
            if (deliberate != null) {
                assertThat(webstackAnswer.map(Message::getRcode)).as(c + ": " + deliberate.reason()).contains(deliberate.rcode());
                compared++;
                continue;
            }
            if (nsdAnswer.isEmpty() || webstackAnswer.isEmpty()) {
                if (nsdAnswer.isPresent() || webstackAnswer.isPresent()) {
                    differences.add(c + "\n  nsd:      " + nsdAnswer.map(NsdConformanceTest::summary).orElse(NO_ANSWER)
                            + "\n  webstack: " + webstackAnswer.map(NsdConformanceTest::summary).orElse(NO_ANSWER));
                }
                compared++;
                continue;
            }
            Message expected = nsdAnswer.get();
            Message actual = webstackAnswer.get();
            if (c.type() == Type.ANY && actual.getHeader().getFlag(Flags.AA)) {
                // Deliberate: compare the header, and that webstack's RRset is one of NSD's.
                assertThat(summaryHeader(actual)).as(c + ": " + ANY_REASON).isEqualTo(summaryHeader(expected));
                assertThat(actual.getSection(Section.ANSWER).stream().map(Record::getType).distinct().count())
                        .as(c + ": one RRset").isEqualTo(1);
                compared++;
                continue;
            }
            String e = summary(expected);
            String a = summary(actual);
            if (!e.equals(a)) {
                differences.add(c + "\n  nsd:      " + e + "\n  webstack: " + a);
            }
            compared++;
        }
        assertThat(compared).isEqualTo(cases.size());
        return differences;
    }

    private static List<Case> cases() {
        Random random = new Random(1035);
        int[] types = {Type.A, Type.AAAA, Type.CNAME, Type.NS, Type.SOA, Type.MX, Type.TXT, Type.SRV, Type.CAA, Type.PTR};
        List<String> names = List.of(
                "foobar.com.", "www.foobar.com.", "mail.foobar.com.", "ns1.foobar.com.", "nope.foobar.com.", "a.b.nope.foobar.com.",
                "example.test.", "ns1.example.test.", "mail.example.test.", "c1.example.test.", "c3.example.test.",
                "away.example.test.", "cross.example.test.", "x.wild.example.test.", "host.wild.example.test.",
                "a.host.wild.example.test.", "ent.example.test.", "b.ent.example.test.", "a.b.ent.example.test.",
                "sub.example.test.", "ns.sub.example.test.", "deep.in.sub.example.test.", "missing.example.test.",
                "more.test.", "ns1.more.test.", "_sip._tcp.more.test.", "_tcp.more.test.", "sip.more.test.", "inc.more.test.",
                "multi.more.test.", "nothing.more.test.", "2.0.192.in-addr.arpa.", "1.2.0.192.in-addr.arpa.",
                "60.2.0.192.in-addr.arpa.", "99.2.0.192.in-addr.arpa.");
        List<Case> cases = new ArrayList<>();
        for (String name : names) {
            for (int type : types) {
                String variant = random.nextInt(3) == 0 ? ResponderTest.mixedCase(name, random) : name;
                int edns = switch (random.nextInt(4)) {
                    case 0 -> -1;
                    case 1 -> 512;
                    case 2 -> 1232;
                    default -> 4096;
                };
                cases.add(Case.of(variant, type, edns, random.nextInt(5) == 0));
            }
        }
        for (String name : List.of("FOOBAR.COM.", "WwW.FooBar.Com.", "X.Wild.Example.TEST.")) {
            cases.add(Case.of(name, Type.A, -1, false));
            cases.add(Case.of(name, Type.A, 1232, true));
        }
        for (String name : List.of("foobar.com.", "example.test.", "x.wild.example.test.", "sub.example.test.")) {
            cases.add(Case.of(name, Type.ANY, -1, false));
            cases.add(Case.of(name, Type.ANY, 1232, true));
        }
        // Sizes: the medium TXT (between 512 and 1232 bytes) and the big one (over 1232).
        for (String name : List.of("medium.example.test.", "big.example.test.")) {
            for (int edns : new int[] {-1, 512, 1232, 4096}) {
                cases.add(Case.of(name, Type.TXT, edns, false));
            }
            cases.add(Case.of(name, Type.TXT, -1, true));
        }
        cases.add(Case.of("www.example.org.", Type.A, -1, false));
        cases.add(Case.of("www.example.org.", Type.A, 1232, true));
        for (boolean tcp : new boolean[] {false, true}) {
            cases.addAll(oddQueries(tcp));
        }
        return cases;
    }

    /** Queries outside the plain form: errors, other classes and opcodes, EDNS flags and options. */
    private static List<Case> oddQueries(boolean tcp) {
        List<Case> cases = new ArrayList<>();
        Record www = Record.newRecord(Name.fromConstantString("www.foobar.com."), Type.A, DClass.IN);
        Message noQuestion = new Message(11);
        cases.add(Case.raw("QDCOUNT 0", noQuestion, tcp));
        Message twoQuestions = Message.newQuery(www);
        twoQuestions.addRecord(Record.newRecord(Name.fromConstantString("mail.foobar.com."), Type.A, DClass.IN), Section.QUESTION);
        cases.add(Case.raw("QDCOUNT 2", twoQuestions, tcp));
        for (int opcode : new int[] {Opcode.IQUERY, Opcode.STATUS, 3, 6, 15}) {
            Message m = Message.newQuery(www);
            m.getHeader().setOpcode(opcode);
            cases.add(Case.raw("opcode " + opcode, m, tcp));
        }
        for (int dclass : new int[] {DClass.CH, DClass.HS, DClass.ANY, DClass.NONE, 2}) {
            cases.add(Case.raw("class " + DClass.string(dclass), Message.newQuery(
                    Record.newRecord(Name.fromConstantString("www.foobar.com."), Type.A, dclass)), tcp));
        }
        for (int version : new int[] {1, 255}) {
            Message m = Message.newQuery(www);
            m.addRecord(new OPTRecord(1232, 0, version), Section.ADDITIONAL);
            cases.add(Case.raw("EDNS version " + version, m, tcp));
        }
        for (String name : List.of("www.foobar.com.", "nope.foobar.com.", "sub.example.test.", "medium.example.test.")) {
            Message m = Message.newQuery(Record.newRecord(Name.fromConstantString(name), name.startsWith("medium") ? Type.TXT : Type.A, DClass.IN));
            m.addRecord(new OPTRecord(1232, 0, 0, ExtendedFlags.DO), Section.ADDITIONAL);
            cases.add(Case.raw(name + " DO", m, tcp));
        }
        Message checkingDisabled = Message.newQuery(www);
        checkingDisabled.getHeader().setFlag(Flags.CD);
        cases.add(Case.raw("CD", checkingDisabled, tcp));
        Message noRecursion = Message.newQuery(www);
        noRecursion.getHeader().unsetFlag(Flags.RD);
        cases.add(Case.raw("RD clear", noRecursion, tcp));
        for (int size : new int[] {0, 100, 511, 65535}) {
            Message m = Message.newQuery(Record.newRecord(Name.fromConstantString("medium.example.test."), Type.TXT, DClass.IN));
            m.addRecord(new OPTRecord(size, 0, 0), Section.ADDITIONAL);
            cases.add(Case.raw("medium TXT, EDNS size " + size, m, tcp));
        }
        Message option = Message.newQuery(www);
        option.addRecord(new OPTRecord(1232, 0, 0, 0, List.of(new GenericEDNSOption(65001, new byte[] {1, 2}))), Section.ADDITIONAL);
        cases.add(Case.raw("unknown EDNS option", option, tcp));
        Message nsid = Message.newQuery(www);
        nsid.addRecord(new OPTRecord(1232, 0, 0, 0, List.of(new NSIDOption(new byte[0]))), Section.ADDITIONAL);
        cases.add(Case.raw("NSID asked", nsid, tcp));
        // A REFUSED with EDNS says why (RFC 8914): Not Authoritative, Not Supported.
        cases.add(Case.raw("a name in none of the zones, EDNS",
                withEdns(Message.newQuery(Record.newRecord(Name.fromConstantString("www.example.org."), Type.A, DClass.IN)), 1232), tcp));
        cases.add(Case.raw("class CH, EDNS",
                withEdns(Message.newQuery(Record.newRecord(Name.fromConstantString("www.foobar.com."), Type.A, DClass.CH)), 1232), tcp));
        for (int flag : new int[] {Flags.AA, Flags.TC, Flags.RA, Flags.AD, 9}) {
            Message m = Message.newQuery(www);
            m.getHeader().setFlag(flag);
            cases.add(Case.raw("flag " + Flags.string(flag) + " in the query", m, tcp));
        }
        for (int opcode : new int[] {Opcode.NOTIFY, Opcode.UPDATE}) {
            Message m = Message.newQuery(Record.newRecord(Name.fromConstantString("foobar.com."), Type.SOA, DClass.IN));
            m.getHeader().setOpcode(opcode);
            cases.add(Case.raw("opcode " + Opcode.string(opcode) + " from a stranger", m, tcp));
        }
        Message twoOpts = Message.newQuery(www);
        twoOpts.addRecord(new OPTRecord(1232, 0, 0), Section.ADDITIONAL);
        twoOpts.addRecord(new OPTRecord(512, 0, 0), Section.ADDITIONAL);
        cases.add(Case.raw("two OPT records", twoOpts, tcp));
        Message answerInQuery = Message.newQuery(www);
        answerInQuery.addRecord(new org.xbill.DNS.ARecord(Name.fromConstantString("www.foobar.com."), DClass.IN, 60,
                InetAddress.getLoopbackAddress()), Section.ANSWER);
        cases.add(Case.raw("a record in the query's answer section", answerInQuery, tcp));
        for (String odd : List.of("a\\.b.example.test.", "\\255\\195.example.test.", "\\195\\169.example.test.",
                "x".repeat(63) + ".example.test.", ("y".repeat(60) + ".").repeat(4).substring(0, 240) + ".example.test.")) {
            try {
                cases.add(Case.raw("odd name " + odd.substring(0, Math.min(20, odd.length())), Message.newQuery(
                        Record.newRecord(Name.fromString(odd), Type.A, DClass.IN)), tcp));
            } catch (org.xbill.DNS.TextParseException e) {
                throw new IllegalStateException(odd, e);
            }
        }
        Message zFlags = Message.newQuery(www);
        zFlags.addRecord(new OPTRecord(1232, 0, 0, 0x7fff), Section.ADDITIONAL);
        cases.add(Case.raw("EDNS flags other than DO", zFlags, tcp));
        Message extendedRcode = Message.newQuery(www);
        extendedRcode.addRecord(new OPTRecord(1232, 5, 0), Section.ADDITIONAL);
        cases.add(Case.raw("an extended rcode in the query's OPT", extendedRcode, tcp));
        Message optInAnswer = Message.newQuery(www);
        optInAnswer.addRecord(new OPTRecord(1232, 0, 0), Section.AUTHORITY);
        cases.add(Case.raw("an OPT in the authority section", optInAnswer, tcp));
        byte[] plain = Message.newQuery(www).toWire();
        byte[] trailing = java.util.Arrays.copyOf(plain, plain.length + 3);
        cases.add(new Case("three bytes after the question", trailing, Type.A, tcp));
        byte[] cut = java.util.Arrays.copyOf(plain, plain.length - 2);
        cases.add(new Case("a question cut short", cut, Type.A, tcp));
        byte[] arcount = plain.clone();
        arcount[11] = 1; // one additional record announced, none there
        cases.add(new Case("ARCOUNT 1 with nothing after the question", arcount, Type.A, tcp));
        byte[] pointer = plain.clone();
        pointer[12] = (byte) 0xC0; // the question's name is a compression pointer to the header
        pointer[13] = 0;
        cases.add(new Case("a question name that points into the header", pointer, Type.A, tcp));
        return cases;
    }

    /** Rcode, flags, OPT presence, extended rcode and options, and each section sorted: what must match. */
    private static String summary(Message m) {
        return summaryHeader(m) + " | answer " + records(m, Section.ANSWER) + " | authority " + records(m, Section.AUTHORITY)
                + " | additional " + records(m, Section.ADDITIONAL);
    }

    private static String summaryHeader(Message m) {
        StringBuilder flags = new StringBuilder();
        for (int flag : new int[] {Flags.QR, Flags.AA, Flags.TC, Flags.RD, Flags.RA, Flags.AD, Flags.CD}) {
            if (m.getHeader().getFlag(flag)) {
                flags.append(Flags.string(flag)).append(' ');
            }
        }
        OPTRecord opt = m.getOPT();
        return Rcode.string(m.getRcode()) + " " + flags
                + (opt == null ? "no-opt" : "opt(v" + opt.getVersion() + ((opt.getFlags() & ExtendedFlags.DO) != 0 ? " do" : "") + " "
                        + opt.getOptions() + ")")
                + " q=" + m.getSection(Section.QUESTION);
    }

    private static TreeSet<String> records(Message m, int section) {
        return m.getSection(section).stream()
                .filter(r -> r.getType() != Type.OPT)
                .map(r -> r.getName().toString().toLowerCase() + " " + r.getTTL() + " " + Type.string(r.getType()) + " "
                        + r.rdataToString())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static final String NO_ANSWER = "(no answer)";

    /** The answer to {@code query}, or empty when none comes (UDP) or the connection is closed (TCP). */
    private static Optional<Message> send(int port, byte[] query, boolean tcp) throws IOException {
        try {
            return Optional.of(new Message(tcp ? tcp(port, query) : udp(port, query)));
        } catch (SocketTimeoutException | java.io.EOFException | java.net.SocketException e) { // closed or reset
            return Optional.empty();
        }
    }

    private static byte[] udp(int port, byte[] query) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(TIMEOUT_MS);
            socket.send(new DatagramPacket(query, query.length, LOOPBACK, port));
            DatagramPacket response = new DatagramPacket(new byte[65535], 65535);
            socket.receive(response);
            return java.util.Arrays.copyOf(response.getData(), response.getLength());
        }
    }

    private static byte[] tcp(int port, byte[] query) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeShort(query.length);
            out.write(query);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readUnsignedShort()];
            in.readFully(response);
            return response;
        }
    }

    /** A port free for both UDP and TCP on loopback, as far as can be told without holding it. */
    private static int freePort() throws IOException {
        for (int i = 0; i < 20; i++) {
            try (DatagramSocket udp = new DatagramSocket(0, LOOPBACK)) {
                int port = udp.getLocalPort();
                try (ServerSocket tcp = new ServerSocket(port, 1, LOOPBACK)) {
                    return port;
                } catch (IOException taken) {
                    // try another
                }
            }
        }
        throw new IOException("no free loopback port for nsd");
    }
}
