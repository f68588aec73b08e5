package dev.webstack.dns;

import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;
import java.util.function.LongSupplier;

/**
 * How many datagrams one read of a UDP socket by Netty's channel takes (on epoll without JNA,
 * where {@link UdpBatchHandle} does not read the sockets): one ({@code recvmsg}) while
 * queries come one at a time, a batch ({@code recvmmsg}) while they queue up. One read per wake-up
 * either way, so a query waits behind at most one batch before the answers go out.
 *
 * <p>A batch costs a lone query: Netty's {@code recvmmsg} asks the socket for
 * {@code IP_RECVORIGDSTADDR} first (one more system call) and prepares every slot of the batch
 * through JNI, about 2-3 µs before the system call that reads; {@code recvmsg} does neither. One
 * datagram per read costs a queue of them a wake-up each. So the handle reads one while reads
 * come further apart than {@link #BUSY_NANOS}, switches to batches when they come closer, and
 * back to one after {@link #LONE_READS} batches in a row that found a single datagram.
 */
final class DatagramReads extends DefaultMaxMessagesRecvByteBufAllocator {
    /** Reads closer together than this: datagrams are queueing, read them in batches. */
    static final long BUSY_NANOS = 20_000;
    /** Batches in a row that found one datagram each before reading one at a time again. */
    static final int LONE_READS = 4;

    private final int datagramSize;
    private final int batch;
    private final LongSupplier nanoTime;

    /**
     * @param datagramSize the most read of one datagram (the channel's max datagram payload size)
     * @param batch        the most datagrams one read takes
     */
    DatagramReads(int datagramSize, int batch) {
        this(datagramSize, batch, System::nanoTime);
    }

    DatagramReads(int datagramSize, int batch, LongSupplier nanoTime) {
        super(1);
        this.datagramSize = datagramSize;
        this.batch = batch;
        this.nanoTime = nanoTime;
    }

    @Override
    public Handle newHandle() {
        return new ReadHandle();
    }

    private final class ReadHandle extends MaxMessageHandle {
        private boolean batching = true;
        private int loneReads;
        private long lastRead;

        @Override
        public void reset(ChannelConfig config) {
            super.reset(config);
            long now = nanoTime.getAsLong();
            if (!batching && now - lastRead < BUSY_NANOS) {
                batching = true;
                loneReads = 0;
            }
            lastRead = now;
        }

        @Override
        public int guess() {
            return batching ? datagramSize * batch : datagramSize;
        }

        @Override
        public void lastBytesRead(int bytes) {
            super.lastBytesRead(bytes);
            // A batch reports the datagrams it read times datagramSize.
            if (batching && bytes > 0) {
                loneReads = bytes <= datagramSize ? loneReads + 1 : 0;
                if (loneReads >= LONE_READS) {
                    batching = false;
                }
            }
        }
    }
}
