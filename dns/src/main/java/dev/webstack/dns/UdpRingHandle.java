package dev.webstack.dns;

import static dev.webstack.dns.UdpBatchHandle.CONTROL;
import static dev.webstack.dns.UdpBatchHandle.IOVEC;
import static dev.webstack.dns.UdpBatchHandle.MMSGHDR;
import static dev.webstack.dns.UdpBatchHandle.MSG_CONTROL;
import static dev.webstack.dns.UdpBatchHandle.MSG_CONTROLLEN;
import static dev.webstack.dns.UdpBatchHandle.MSG_CTRUNC;
import static dev.webstack.dns.UdpBatchHandle.MSG_IOV;
import static dev.webstack.dns.UdpBatchHandle.MSG_IOVLEN;
import static dev.webstack.dns.UdpBatchHandle.MSG_NAME;
import static dev.webstack.dns.UdpBatchHandle.MSG_NAMELEN;
import static dev.webstack.dns.UdpBatchHandle.NAME;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the queries of one UDP socket through its event loop's io_uring and sends their answers a
 * batch at a time, with no object made per query: the io_uring twin of {@link UdpBatchHandle}.
 *
 * <p>How: one multishot {@code RECVMSG} stays armed on the socket (Linux 6.0). The kernel reads each
 * datagram into one of {@link #BUFFERS} buffers given to the ring beforehand
 * ({@code PROVIDE_BUFFERS}, a buffer group of this handle's own) while the loop is still inside
 * {@code io_uring_enter}, and posts a completion naming the buffer; the loop then calls
 * {@link #handle}. Each buffer holds the {@code struct io_uring_recvmsg_out}, the sender's address,
 * the control message (a wildcard socket's destination) and the datagram. The answer goes into a
 * {@code struct mmsghdr} slot with the sender's address copied beside it, and the buffer goes back
 * to the ring a block of {@link #BLOCK} at a time, once all of the block are answered (the ring
 * hands them out in the order given, so the blocks stay whole). The answers leave with one
 * {@code sendmmsg} (through JNA) when {@link #SENDS} are waiting, or at the end of the loop's round
 * ({@link DnsEventLoopGroup.DnsEventLoop#afterEachRound}), once it has handled the completions at
 * hand. So a query waits behind at most {@link #SENDS} answers, as on epoll, and nothing is
 * allocated per query: the requests are made once ({@link IoUringIoOps} objects, immutable).
 *
 * <p>Why a system call for the answers and not a {@code SENDMSG} each: Netty submits new entries
 * only after handling every completion at hand, so under load an answer waited for the whole
 * round (up to {@link #BUFFERS} datagrams per socket); the saturated p99 was up to a fifth above
 * epoll's.
 *
 * <p>When the multishot receive stops (it ran out of buffers, or an error), it is armed again;
 * after {@link #FRUITLESS_ARMS} in a row that stopped before a single datagram, it is not (a kernel
 * that refuses it would have the loop spin), and an error says so.
 * {@link #close} cancels it; the memory goes once the kernel has said it is done with it (the
 * receive's last completion), or with the ring.
 */
final class UdpRingHandle implements IoUringIoHandle {
    private static final Logger log = LoggerFactory.getLogger(UdpRingHandle.class);

    // io_uring (linux/io_uring.h), as Netty's IoUringIoOps takes them.
    private static final byte IORING_OP_RECVMSG = 10;
    private static final byte IORING_OP_ASYNC_CANCEL = 14;
    private static final byte IORING_OP_PROVIDE_BUFFERS = 31;
    private static final byte IOSQE_BUFFER_SELECT = 1 << 5;
    private static final short IORING_RECV_MULTISHOT = 1 << 1;
    private static final int IORING_CQE_F_BUFFER = 1;
    private static final int IORING_CQE_F_MORE = 1 << 1;
    private static final int IORING_CQE_BUFFER_SHIFT = 16;
    private static final int ENOBUFS = 105;

    /** {@code struct io_uring_recvmsg_out}: name length, control length, payload length, flags; then the name, control and payload. */
    private static final int RECVMSG_OUT = 16;
    private static final int OUT_NAMELEN = 0;
    private static final int OUT_CONTROLLEN = 4;
    private static final int OUT_PAYLOADLEN = 8;
    private static final int OUT_FLAGS = 12;

    /** Buffers given to the ring for the datagrams: as many as may wait for the loop before the receive runs dry. */
    static final int BUFFERS = 64;
    private static final int BUFFER = RECVMSG_OUT + NAME + CONTROL + DnsServer.MAX_UDP_QUERY;
    /** Buffers given back in one {@code PROVIDE_BUFFERS}: blocks of consecutive ids. */
    static final int BLOCK = 8;
    /** Answers sent by one {@code sendmmsg}, at most: a query waits behind at most this many. */
    static final int SENDS = DnsServer.RECV_BATCH;
    /** Beside each answer's {@code struct mmsghdr}: its iovec, the client's address, the control message. */
    private static final int SEND_EXTRA = IOVEC + NAME + CONTROL;

    /** Receives armed in a row that stopped before a datagram, after which the socket is left unread. */
    static final int FRUITLESS_ARMS = 8;
    /** The completions' {@code data}: which request. */
    private static final short RECEIVE = 0;
    private static final short PROVIDE = 1;
    private static final short CANCEL = 2;

    // Where each part starts in the native memory.
    private static final int RECV_MSGHDR = 0;
    private static final int SEND_MSGS = 64;
    private static final int SEND_EXTRAS = SEND_MSGS + SENDS * MMSGHDR;
    private static final int BUFFERS_AT = SEND_EXTRAS + SENDS * SEND_EXTRA;
    private static final int SIZE = BUFFERS_AT + BUFFERS * BUFFER;

    private final FileDescriptor fd;
    private final UdpAnswers answers;
    private final boolean fromDestination;
    private final short group;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final ByteBuf memory;
    private final long address;
    /** Views of each buffer, reused from query to query. */
    private final ByteBuf[] queries = new ByteBuf[BUFFERS];
    private final ByteBuf[] responses = new ByteBuf[SENDS];
    private final byte[] ipv6 = new byte[16];
    /** The requests, made once: the receive, and each block's return. */
    private final IoUringIoOps receiveOp;
    private final IoUringIoOps[] provideOps = new IoUringIoOps[BUFFERS / BLOCK];
    private final IoUringIoOps allBuffersOp;
    private final DnsEventLoopGroup.DnsEventLoop loop;
    private final Runnable flush = this::flush;
    private IoRegistration registration;
    /** The armed receive's user data (to cancel it), and whether it is armed. */
    private long receive;
    private boolean receiving;
    /** Datagrams since the receive was armed, and receives in a row that stopped with none. */
    private int datagrams;
    private int fruitless;
    /** Answers waiting in the send slots. */
    private int pending;
    /** Buffers read and answered, not yet given back, per block. */
    private final int[] answered = new int[BUFFERS / BLOCK];
    private boolean closed;

    /**
     * @param fd              a UDP socket's descriptor, owned by the handle from now on (closed with it)
     * @param answers         what each query is answered
     * @param fromDestination whether to send each answer from the address its query came to (a
     *                        wildcard socket asked for each datagram's destination)
     * @param group           the ring's buffer group for this handle's buffers, unique on its loop
     * @param loop            the event loop whose ring the handle is registered with
     */
    UdpRingHandle(int fd, UdpAnswers answers, boolean fromDestination, short group, DnsEventLoopGroup.DnsEventLoop loop) {
        this.loop = loop;
        this.fd = new FileDescriptor(fd);
        this.answers = answers;
        this.fromDestination = fromDestination;
        this.group = group;
        this.memory = Unpooled.directBuffer(SIZE, SIZE);
        this.address = memory.memoryAddress();
        receiveOp = new IoUringIoOps(IORING_OP_RECVMSG, IOSQE_BUFFER_SELECT, IORING_RECV_MULTISHOT, fd,
                0L, address + RECV_MSGHDR, 0, 0, RECEIVE, group, (short) 0, 0, 0L);
        for (int b = 0; b < provideOps.length; b++) {
            provideOps[b] = provide(b * BLOCK, BLOCK);
        }
        allBuffersOp = provide(0, BUFFERS);
        memory.setZero(0, SIZE);
        // Multishot: the msghdr gives only how much room the name and the control take in each buffer.
        memory.setIntLE(RECV_MSGHDR + MSG_NAMELEN, NAME);
        memory.setLongLE(RECV_MSGHDR + MSG_CONTROLLEN, fromDestination ? CONTROL : 0);
        for (int i = 0; i < SENDS; i++) {
            int send = SEND_MSGS + i * MMSGHDR;
            int extra = SEND_EXTRAS + i * SEND_EXTRA;
            memory.setLongLE(send + MSG_IOV, address + extra);
            memory.setLongLE(send + MSG_IOVLEN, 1);
            memory.setLongLE(send + MSG_NAME, address + extra + IOVEC);
        }
        for (int b = 0; b < BUFFERS; b++) {
            queries[b] = memory.slice(BUFFERS_AT + b * BUFFER, BUFFER);
        }
    }

    /** Starts reading: gives the ring the buffers, then arms the receive. Called on the loop once registered. */
    void start(IoRegistration registration) {
        this.registration = registration;
        loop.afterEachRound(flush);
        registration.submit(allBuffersOp);
        arm();
    }

    private void arm() {
        receive = registration.submit(receiveOp);
        receiving = true;
        datagrams = 0;
    }

    /** {@code PROVIDE_BUFFERS}: buffers {@code from} to {@code from + count - 1} to the group. */
    private IoUringIoOps provide(int from, int count) {
        return new IoUringIoOps(IORING_OP_PROVIDE_BUFFERS, (byte) 0, (short) 0, count, from,
                address + BUFFERS_AT + (long) from * BUFFER, BUFFER, 0, PROVIDE, group, (short) 0, 0, 0L);
    }

    @Override
    public void handle(IoRegistration registration, IoEvent ioEvent) {
        IoUringIoEvent event = (IoUringIoEvent) ioEvent;
        int res = event.res();
        if (event.data() != RECEIVE) {
            if (res < 0 && event.data() == PROVIDE && !closed) {
                log.warn("udp: buffers not given to io_uring: errno {}", -res);
            }
            return;
        }
        int flags = event.flags();
        if ((flags & IORING_CQE_F_BUFFER) != 0 && !closed) {
            int buffer = flags >>> IORING_CQE_BUFFER_SHIFT;
            if (res > 0) {
                datagrams++;
                answer(buffer);
            }
            giveBack(buffer);
        }
        if ((flags & IORING_CQE_F_MORE) == 0) {
            receiving = false;
            if (closed) {
                release();
                return;
            }
            if (res < 0 && res != -ENOBUFS) {
                log.debug("udp: receive stopped: errno {}", -res);
            }
            fruitless = datagrams > 0 ? 0 : fruitless + 1;
            if (fruitless >= FRUITLESS_ARMS) {
                log.error("udp: io_uring ends each receive on socket {} before a datagram (errno {}); it is no longer read "
                        + "(WEBSTACK_TRANSPORT=epoll reads it through epoll)", fd.intValue(), -res);
                return;
            }
            arm();
        }
    }

    /** Answers the datagram in buffer {@code b}; the answer waits in a send slot. */
    private void answer(int b) {
        int at = BUFFERS_AT + b * BUFFER;
        int name = at + RECVMSG_OUT;
        int control = name + NAME;
        int data = control + (fromDestination ? CONTROL : 0);
        int length = Math.min(memory.getIntLE(at + OUT_PAYLOADLEN), DnsServer.MAX_UDP_QUERY);
        ByteBuf response = answers.answer(queries[b].setIndex(data - at, data - at + length), memory, name, ipv6, alloc);
        if (response == null) {
            return;
        }
        int slot = pending;
        int send = SEND_MSGS + slot * MMSGHDR;
        int extra = SEND_EXTRAS + slot * SEND_EXTRA;
        memory.setLongLE(extra, response.memoryAddress() + response.readerIndex());
        memory.setLongLE(extra + 8, response.readableBytes());
        int nameLength = Math.min(memory.getIntLE(at + OUT_NAMELEN), NAME);
        memory.setBytes(extra + IOVEC, memory, name, nameLength);
        memory.setIntLE(send + MSG_NAMELEN, nameLength);
        long controlLength = memory.getIntLE(at + OUT_CONTROLLEN) & 0xFFFF_FFFFL;
        boolean source = fromDestination && (memory.getIntLE(at + OUT_FLAGS) & MSG_CTRUNC) == 0
                && UdpBatchHandle.destination(memory, control, controlLength);
        if (source) {
            memory.setBytes(extra + IOVEC + NAME, memory, control, (int) controlLength);
        }
        memory.setLongLE(send + MSG_CONTROL, source ? address + extra + IOVEC + NAME : 0);
        memory.setLongLE(send + MSG_CONTROLLEN, source ? controlLength : 0);
        responses[slot] = response;
        pending++;
        if (pending == SENDS) {
            flush();
        }
    }

    /** Sends the answers waiting in the send slots. */
    private void flush() {
        if (pending > 0) {
            UdpBatchHandle.sendAll(fd.intValue(), address + SEND_MSGS, pending, responses);
            pending = 0;
        }
    }

    /** Buffer {@code b} read and answered: its block goes back to the ring once all of it is. */
    private void giveBack(int b) {
        int block = b / BLOCK;
        if (++answered[block] == BLOCK) {
            answered[block] = 0;
            registration.submit(provideOps[block]);
        }
    }

    /**
     * Stops reading: sends the answers waiting, closes the descriptor and cancels the receive; the
     * memory goes with the receive's last completion. Called on the loop.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        flush();
        if (registration != null) {
            loop.removeAfterEachRound(flush);
        }
        try {
            fd.close();
        } catch (IOException e) {
            log.debug("udp: closing descriptor {}: {}", fd.intValue(), e.toString());
        }
        if (registration == null) {
            memory.release();
        } else if (receiving) {
            registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L, receive, 0, 0,
                    CANCEL, (short) 0, (short) 0, 0, 0L));
        } else {
            release();
        }
    }

    /** The kernel is done with the memory: frees it, and ends the registration. */
    private void release() {
        if (memory.refCnt() > 0) {
            memory.release();
            registration.cancel();
        }
    }
}
