package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** When a UDP read takes one datagram and when a batch (the policy alone; the server's reads are in UdpReadersTest). */
class DatagramReadsTest {
    private static final int SIZE = 4096;
    private static final int BATCH = 16;
    /** A gap between reads of an idle socket. */
    private static final long FAR = DatagramReads.BUSY_NANOS * 10;

    private long now = 1_000_000_000L;
    private final ChannelConfig config = new EmbeddedChannel().config();
    private final RecvByteBufAllocator.Handle handle = new DatagramReads(SIZE, BATCH, () -> now).newHandle();

    @Test
    void readsInBatchesUntilBatchesFindOneDatagramEach() {
        assertThat(read(FAR, 3)).as("the first read").isEqualTo(SIZE * BATCH);
        for (int i = 1; i <= DatagramReads.LONE_READS; i++) {
            assertThat(read(FAR, 1)).as("batch " + i + " that found one datagram").isEqualTo(SIZE * BATCH);
        }
        assertThat(read(FAR, 1)).as("then one datagram a read").isEqualTo(SIZE);
    }

    @Test
    void aBatchOfSeveralStartsTheCountOfLoneReadsAgain() {
        for (int i = 1; i < DatagramReads.LONE_READS; i++) {
            read(FAR, 1);
        }
        read(FAR, 2);
        for (int i = 1; i < DatagramReads.LONE_READS; i++) {
            assertThat(read(FAR, 1)).isEqualTo(SIZE * BATCH);
        }
    }

    @Test
    void readsCloserTogetherThanTheBusyGapGoBackToBatches() {
        for (int i = 0; i < DatagramReads.LONE_READS; i++) {
            read(FAR, 1);
        }
        assertThat(read(DatagramReads.BUSY_NANOS, 1)).as("a read the busy gap after the last").isEqualTo(SIZE);
        assertThat(read(FAR, 1)).isEqualTo(SIZE);
        assertThat(read(DatagramReads.BUSY_NANOS - 1, 1)).as("a read closer after the last").isEqualTo(SIZE * BATCH);
    }

    /** One read (reset, guess, what it read) of {@code datagrams} datagrams, {@code gap} after the last; returns the size it asked for. */
    private int read(long gap, int datagrams) {
        now += gap;
        handle.reset(config);
        int asked = handle.guess();
        // A batch reports its datagrams times the datagram size; one datagram, its own size.
        handle.lastBytesRead(asked > SIZE ? datagrams * SIZE : 60);
        handle.readComplete();
        return asked;
    }
}
