package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/** The TCP connection's pipeline in memory: framing split anywhere, pipelined queries, idle timeout (RFC 7766). */
class TcpPipelineTest {
    private static Responder responder;

    @BeforeAll
    static void load() {
        DnsConfig config = TestZones.config(new HostPort("127.0.0.1", 0));
        responder = new Responder(ZoneLoader.loadAll(config), config.udpPayload());
    }

    private static EmbeddedChannel connection() {
        EmbeddedChannel channel = new EmbeddedChannel();
        DnsServer.tcpPipeline(channel.pipeline(), () -> responder, new ZoneTransfer(Set.of()), new DnsCounters());
        return channel;
    }

    @Test
    void pipelinedQueriesSplitAtEveryByteAreAnsweredInOrder() {
        ByteBuf stream = Unpooled.buffer();
        for (int id : new int[] {1, 2, 3}) {
            byte[] query = ResponderTest.query(id == 2 ? "nope.foobar.com." : "www.foobar.com.", Type.A, id == 3 ? 1232 : -1, true, false, id);
            stream.writeShort(query.length).writeBytes(query);
        }
        byte[] bytes = ByteBufUtil.getBytes(stream);
        for (int split = 0; split <= bytes.length; split++) {
            EmbeddedChannel channel = connection();
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, 0, split));
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
            List<Message> answers = answers(channel);
            assertThat(answers).as("split at " + split).extracting(m -> m.getHeader().getID()).containsExactly(1, 2, 3);
            assertThat(answers).extracting(Message::getRcode).containsExactly(Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.NOERROR);
            assertThat(channel.isOpen()).isTrue();
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() {
        EmbeddedChannel channel = connection();
        channel.advanceTimeBy(DnsServer.TCP_IDLE_SECONDS - 1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("open just before the timeout").isTrue();

        // A query resets the clock.
        byte[] query = ResponderTest.query("www.foobar.com.", Type.A, -1, true, false, 9);
        channel.writeInbound(Unpooled.buffer().writeShort(query.length).writeBytes(query));
        assertThat(answers(channel)).singleElement().extracting(m -> m.getHeader().getID()).isEqualTo(9);
        channel.advanceTimeBy(DnsServer.TCP_IDLE_SECONDS - 1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("open: the query was less than the timeout ago").isTrue();

        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("closed after " + DnsServer.TCP_IDLE_SECONDS + " s without traffic").isFalse();
    }

    /** The length-prefixed messages written so far (the prepender writes each prefix as a buffer of its own). */
    private static List<Message> answers(EmbeddedChannel channel) {
        ByteBuf stream = Unpooled.buffer();
        for (ByteBuf buf; (buf = channel.readOutbound()) != null; ) {
            stream.writeBytes(buf);
            buf.release();
        }
        List<Message> out = new ArrayList<>();
        while (stream.readableBytes() >= 2) {
            byte[] message = new byte[stream.readUnsignedShort()];
            stream.readBytes(message);
            out.add(TestZones.parse(message));
        }
        assertThat(stream.readableBytes()).as("nothing but whole frames").isZero();
        return out;
    }
}
