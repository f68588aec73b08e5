package dev.webstack.dns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * Tells secondaries that a zone changed (NOTIFY, RFC 1996): one UDP message per secondary with
 * the zone's SOA, AA set, sent {@value #ATTEMPTS} times at most until the secondary acknowledges
 * it, waiting {@value #WAIT_MS} ms for each answer. The secondary then asks for the SOA and
 * transfers the zone ({@link ZoneTransfer}). Failures are logged, never thrown: a secondary that
 * misses a NOTIFY still polls at the SOA refresh interval.
 */
final class Notifier {
    private static final Logger log = LoggerFactory.getLogger(Notifier.class);

    static final int ATTEMPTS = 3;
    static final int WAIT_MS = 1000;

    private volatile List<InetSocketAddress> secondaries;
    private volatile Map<InetSocketAddress, TSIG> keys;

    /** @param keys the secondaries whose NOTIFY is signed (TSIG, RFC 8945 section 5.1), and the key */
    Notifier(List<InetSocketAddress> secondaries, Map<InetSocketAddress, TSIG> keys) {
        use(secondaries, keys);
    }

    /** From the next NOTIFY on, these secondaries and keys (a reload that changed {@code dns.notify} or the keys). */
    void use(List<InetSocketAddress> newSecondaries, Map<InetSocketAddress, TSIG> newKeys) {
        keys = Map.copyOf(newKeys);
        secondaries = List.copyOf(newSecondaries);
    }

    Notifier(List<InetSocketAddress> secondaries) {
        this(secondaries, Map.of());
    }

    /** Notifies every secondary of {@code zone}'s new data; blocks at most ATTEMPTS x WAIT_MS per secondary. */
    void notifyChanged(ZoneData zone) {
        Map<InetSocketAddress, TSIG> keys = this.keys;
        for (InetSocketAddress secondary : secondaries) {
            int id = ThreadLocalRandom.current().nextInt(0x10000);
            Message notify = new Message(id);
            notify.getHeader().setOpcode(Opcode.NOTIFY);
            notify.getHeader().setFlag(Flags.AA);
            notify.addRecord(Record.newRecord(zone.origin(), Type.SOA, DClass.IN), Section.QUESTION);
            notify.addRecord(zone.soa(), Section.ANSWER);
            TSIG key = keys.get(secondary);
            if (key != null) {
                notify.setTSIG(key, Rcode.NOERROR, null);
            }
            // toWire(max) signs it when a key is set.
            byte[] wire = notify.toWire(Message.MAXLENGTH);
            boolean acknowledged = false;
            try (DatagramSocket socket = new DatagramSocket()) {
                socket.setSoTimeout(WAIT_MS);
                for (int attempt = 1; attempt <= ATTEMPTS && !acknowledged; attempt++) {
                    socket.send(new DatagramPacket(wire, wire.length, secondary));
                    acknowledged = awaitAck(socket, id);
                }
            } catch (IOException e) {
                log.warn("dns: NOTIFY {} to {}: {}", zone.origin(), secondary, e.toString());
                continue;
            }
            if (acknowledged) {
                log.info("dns: NOTIFY {} serial {} to {}: acknowledged", zone.origin(), zone.soa().getSerial(), secondary);
            } else {
                log.warn("dns: NOTIFY {} to {}: no answer after {} attempts", zone.origin(), secondary, ATTEMPTS);
            }
        }
    }

    private static boolean awaitAck(DatagramSocket socket, int id) throws IOException {
        DatagramPacket response = new DatagramPacket(new byte[512], 512);
        try {
            socket.receive(response);
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
        byte[] data = response.getData();
        return response.getLength() >= 12 && ((data[0] & 0xFF) << 8 | (data[1] & 0xFF)) == id && (data[2] & 0x80) != 0;
    }
}
