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
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
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
 * <p>Deliberate differences, not compared (see {@link #DELIBERATE}):
 * <ul>
 *   <li>ANY: both answer with one RRset (RFC 8482 section 4.1), but not the same one: NSD picks
 *       the SOA at the apex (and over TCP may send more), webstack the RRset of the lowest type
 *       code. Only the header is compared, and that webstack's answer is a single RRset.
 *   <li>The OPT record's advertised UDP size: webstack advertises {@code dns.udp-payload}; NSD its
 *       own setting. Only the OPT's presence and extended rcode are compared.
 * </ul>
 */
class NsdConformanceTest {
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
        webstack = DnsServer.start(TestZones.config(new HostPort("127.0.0.1", 0)), DnsOptions.defaults().withRateLimit(RateLimit.OFF).withTransferClients(Set.of(LOOPBACK)));
        nsdPort = freePort();
        nsd = startNsd(dir.resolve("primary"), nsdPort, """
                zone:
                  name: foobar.com
                  zonefile: "%s"
                zone:
                  name: example.test
                  zonefile: "%s"
                """.formatted(TestZones.FOOBAR.toAbsolutePath().normalize(), TestZones.EXAMPLE.toAbsolutePath().normalize()));
        awaitAnswer(nsd, nsdPort, "foobar.com.", dir.resolve("primary"));
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
                remote-control:
                  control-enable: no
                """.formatted(port, home) + zones);
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

    /** A query, how it is sent, and whether a mismatch is a documented deliberate difference. */
    record Case(String name, int type, int edns, boolean tcp) {
        @Override
        public String toString() {
            return name + " " + Type.string(type) + (edns < 0 ? "" : " edns=" + edns) + (tcp ? " tcp" : " udp");
        }
    }

    /** Documented deliberate differences (see the class comment). */
    private static final Map<String, String> DELIBERATE = Map.of(
            "ANY", "RFC 8482: each server picks its own RRset for ANY");

    @Test
    void answersAsNsdDoes() throws IOException {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThanOrEqualTo(200);
        assertThat(differences(cases, nsdPort)).as("differences from NSD in " + cases.size() + " queries").isEmpty();
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
                """.formatted(primary));
        try {
            awaitAnswer(secondary, port, "foobar.com.", home);
            awaitAnswer(secondary, port, "example.test.", home);
            List<Case> cases = cases();
            assertThat(differences(cases, port)).as("differences from NSD serving the transferred zones").isEmpty();
        } finally {
            secondary.destroy();
            if (!secondary.waitFor(5, TimeUnit.SECONDS)) {
                secondary.destroyForcibly();
            }
        }
    }

    @Test
    void afterAReloadWebstackNotifiesNsdWhichTransfersTheNewSerial() throws IOException, InterruptedException {
        Path zoneFile = dir.resolve("notify/example.test.zone");
        Files.createDirectories(zoneFile.getParent());
        String original = Files.readString(TestZones.EXAMPLE);
        Files.writeString(zoneFile, original);
        int port = freePort();
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", zoneFile)), 1232);
        Path home = dir.resolve("notified");
        try (DnsServer primary = DnsServer.start(config, DnsOptions.defaults().withRateLimit(RateLimit.OFF)
                .withTransferClients(Set.of(LOOPBACK)).withNotifyTargets(List.of(new InetSocketAddress(LOOPBACK, port))))) {
            Process secondary = startNsd(home, port, """
                    zone:
                      name: example.test
                      zonefile: "example.test.zone"
                      request-xfr: AXFR 127.0.0.1@%d NOKEY
                      allow-notify: 127.0.0.1 NOKEY
                    """.formatted(primary.port()));
            try {
                awaitAnswer(secondary, port, "example.test.", home);
                assertThat(serial(port)).isEqualTo(1);

                Files.writeString(zoneFile, original.replace("\n                1 7200", "\n                2 7200")
                        + "added IN A 192.0.2.77\n");
                ZoneReload reload = primary.reload();
                assertThat(reload.toString()).contains("example.test. updated (serial 1 -> 2)");

                // NSD answers NOTIFY, asks for the SOA, transfers: bounded to about 15 s, no timing asserted.
                for (int i = 0; i < 60 && serial(port) != 2; i++) {
                    sleep(250);
                }
                assertThat(serial(port)).as("serial at the secondary after NOTIFY").isEqualTo(2);
                Message added = new Message(udp(port, ResponderTest.query("added.example.test.", Type.A, -1, false, false, 3)));
                assertThat(records(added, Section.ANSWER)).containsExactly("added.example.test. 3600 A 192.0.2.77");
            } finally {
                secondary.destroy();
                if (!secondary.waitFor(5, TimeUnit.SECONDS)) {
                    secondary.destroyForcibly();
                }
            }
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
            byte[] query = ResponderTest.query(c.name(), c.type(), c.edns(), true, false, 4242);
            Message expected = new Message(c.tcp() ? tcp(nsdPort, query) : udp(nsdPort, query));
            Message actual = new Message(c.tcp() ? tcp(webstack.port(), query) : udp(webstack.port(), query));
            if (c.type() == Type.ANY && actual.getHeader().getFlag(Flags.AA)) {
                // Deliberate: compare the header, and that webstack's RRset is one of NSD's.
                assertThat(summaryHeader(actual)).as(c + ": " + DELIBERATE.get("ANY")).isEqualTo(summaryHeader(expected));
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
                "sub.example.test.", "ns.sub.example.test.", "deep.in.sub.example.test.", "missing.example.test.");
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
                cases.add(new Case(variant, type, edns, random.nextInt(5) == 0));
            }
        }
        for (String name : List.of("FOOBAR.COM.", "WwW.FooBar.Com.", "X.Wild.Example.TEST.")) {
            cases.add(new Case(name, Type.A, -1, false));
            cases.add(new Case(name, Type.A, 1232, true));
        }
        for (String name : List.of("foobar.com.", "example.test.", "x.wild.example.test.", "sub.example.test.")) {
            cases.add(new Case(name, Type.ANY, -1, false));
            cases.add(new Case(name, Type.ANY, 1232, true));
        }
        // Sizes: the medium TXT (between 512 and 1232 bytes) and the big one (over 1232).
        for (String name : List.of("medium.example.test.", "big.example.test.")) {
            for (int edns : new int[] {-1, 512, 1232, 4096}) {
                cases.add(new Case(name, Type.TXT, edns, false));
            }
            cases.add(new Case(name, Type.TXT, -1, true));
        }
        cases.add(new Case("www.example.org.", Type.A, -1, false));
        cases.add(new Case("www.example.org.", Type.A, 1232, true));
        return cases;
    }

    /** Rcode, flags, OPT presence and extended rcode, and each section sorted: what must match. */
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
        return Rcode.string(m.getRcode()) + " " + flags + (opt == null ? "no-opt" : "opt(v" + opt.getVersion() + ")")
                + " q=" + m.getSection(Section.QUESTION);
    }

    private static TreeSet<String> records(Message m, int section) {
        return m.getSection(section).stream()
                .filter(r -> r.getType() != Type.OPT)
                .map(r -> r.getName().toString().toLowerCase() + " " + r.getTTL() + " " + Type.string(r.getType()) + " "
                        + r.rdataToString())
                .collect(Collectors.toCollection(TreeSet::new));
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
