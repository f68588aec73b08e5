package dev.webstack.dns;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import dev.webstack.common.process.LibC;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.IntegerUnixChannelOption;
import java.io.IOException;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the queries of one UDP socket and sends their answers, a batch at a time
 * ({@code recvmmsg} and {@code sendmmsg}, called through JNA), from an epoll event loop that calls
 * {@link #handle} whenever the socket has datagrams waiting (level-triggered {@code EPOLLIN}).
 *
 * <p>Why not Netty's {@code EpollDatagramChannel}: it makes objects for every datagram it reads
 * (a {@code DatagramPacket}, the sender's {@code InetSocketAddress} and {@code InetAddress}) and
 * for every one written (the answer's {@code DatagramPacket}): 144 bytes per query on the event
 * loops, against none here ({@code UdpBatchHandleTest} measures both). Here the datagrams, their senders' addresses and the system calls'
 * {@code struct mmsghdr} arrays live in one native buffer made once: a query's sender goes from
 * the received {@code msg_name} straight to the answer's, and the rate limit reads the address
 * there. Per query only the answer's buffer is taken, from the pooled allocator (the "no
 * per-query allocation on the hot path beyond the buffer"); an address object is made only for an
 * IXFR while some address may transfer ({@link UdpAnswers#needsClient}), as its client must be on
 * the transfer list. The socket itself is still a Netty channel,
 * bound with its options and never read by Netty; this handle reads a duplicate of its
 * descriptor, so that the socket can be read by two loops ({@link DnsServer}).
 *
 * <p>One {@code recvmmsg} per wake-up takes up to {@link #BATCH} datagrams (as many as are waiting:
 * it does not wait for more), and one {@code sendmmsg} sends their answers before the handle
 * returns, so a query waits behind at most one batch. A datagram longer than
 * {@link DnsServer#MAX_UDP_QUERY} is cut off, as with Netty's channel.
 *
 * <p>A socket bound to the wildcard address ({@code 0.0.0.0}, {@code [::]}) would send each answer
 * from the address the route to the client prefers, which on a host with several addresses need
 * not be the one the query came to, and the client would drop it. For such a socket the handle
 * asks the kernel for each datagram's destination ({@code IP_PKTINFO}, {@code IPV6_RECVPKTINFO})
 * and sends the answer with it as its source (the control message it received, its interface
 * cleared so that the route still chooses that, but for an IPv6 link-local address), as Unbound
 * does for {@code interface-automatic}.
 *
 * <p>The {@code struct} layouts are those of Linux on 64-bit little-endian machines (x86-64,
 * arm64); {@link #available} says whether this process can use the handle.
 */
final class UdpBatchHandle implements EpollIoHandle {
    private static final Logger log = LoggerFactory.getLogger(UdpBatchHandle.class);

    /** The most datagrams one read takes. */
    static final int BATCH = DnsServer.RECV_BATCH;
    private static final int SLOT = DnsServer.MAX_UDP_QUERY;

    // struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; } on LP64: 64 bytes.
    static final int MMSGHDR = 64;
    static final int MSG_NAME = 0;
    static final int MSG_NAMELEN = 8;
    static final int MSG_IOV = 16;
    static final int MSG_IOVLEN = 24;
    static final int MSG_CONTROL = 32;
    static final int MSG_CONTROLLEN = 40;
    private static final int MSG_FLAGS = 48;
    private static final int MSG_LEN = 56;
    /** In {@code msg_flags}: the control data did not fit. */
    static final int MSG_CTRUNC = 0x8;
    // struct iovec { void *iov_base; size_t iov_len; }
    static final int IOVEC = 16;
    /** Room for a {@code struct sockaddr_in6} (28 bytes), the larger of the two families. */
    static final int NAME = 32;
    /** Room for one control message: {@code CMSG_SPACE(sizeof(struct in6_pktinfo))} is 40 bytes. */
    static final int CONTROL = 64;
    // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data.
    private static final int CMSG_LEVEL = 8;
    private static final int CMSG_TYPE = 12;
    private static final int CMSG_DATA = 16;
    private static final int IPPROTO_IP = 0;
    private static final int IP_PKTINFO_TYPE = 8;
    private static final int IPPROTO_IPV6 = 41;
    private static final int IPV6_PKTINFO_TYPE = 50;
    /** {@code struct in_pktinfo}: interface, local address, header destination. */
    private static final int IN_PKTINFO = 12;
    /** {@code struct in6_pktinfo}: address, interface. */
    private static final int IN6_PKTINFO = 20;
    /** {@code setsockopt(IPPROTO_IP, IP_PKTINFO)}: each datagram of an IPv4 socket comes with its destination address. */
    static final IntegerUnixChannelOption IP_PKTINFO = new IntegerUnixChannelOption("IP_PKTINFO", IPPROTO_IP, IP_PKTINFO_TYPE);
    /**
     * {@code setsockopt(IPPROTO_IPV6, IPV6_RECVPKTINFO)}: each datagram of an IPv6 socket comes with
     * its destination address (an IPv4 one as a mapped address, which sending takes back).
     */
    static final IntegerUnixChannelOption IPV6_RECVPKTINFO = new IntegerUnixChannelOption("IPV6_RECVPKTINFO", IPPROTO_IPV6, 49);

    // Where each part starts in the native buffer.
    private static final int RECV_MSGS = 0;
    private static final int SEND_MSGS = RECV_MSGS + BATCH * MMSGHDR;
    private static final int RECV_IOVS = SEND_MSGS + BATCH * MMSGHDR;
    private static final int SEND_IOVS = RECV_IOVS + BATCH * IOVEC;
    private static final int NAMES = SEND_IOVS + BATCH * IOVEC;
    private static final int CONTROLS = NAMES + BATCH * NAME;
    private static final int DATA = CONTROLS + BATCH * CONTROL;
    private static final int SIZE = DATA + BATCH * SLOT;
    private static final boolean AVAILABLE = probe();

    private final FileDescriptor fd;
    private final UdpAnswers answers;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final ByteBuf memory;
    private final long address;
    /** Views of each slot's datagram, reused from query to query. */
    private final ByteBuf[] queries = new ByteBuf[BATCH];
    private final ByteBuf[] responses = new ByteBuf[BATCH];
    private final byte[] ipv6 = new byte[16];
    /** Whether each answer leaves from its query's destination address (a wildcard socket). */
    private final boolean fromDestination;
    private boolean closed;

    /**
     * @param fd              a UDP socket's descriptor, owned by the handle from now on (closed with it)
     * @param answers         what each query is answered
     * @param fromDestination whether to send each answer from the address its query came to, for
     *                        a socket bound to the wildcard address whose datagrams come with
     *                        their destination ({@link #IP_PKTINFO}, {@link #IPV6_RECVPKTINFO})
     * @throws IllegalStateException {@link #available} is false
     */
    UdpBatchHandle(int fd, UdpAnswers answers, boolean fromDestination) {
        if (!available()) {
            throw new IllegalStateException("recvmmsg through JNA is not available here");
        }
        this.fd = new FileDescriptor(fd);
        this.answers = answers;
        this.fromDestination = fromDestination;
        this.memory = Unpooled.directBuffer(SIZE, SIZE);
        this.address = memory.memoryAddress();
        memory.setZero(0, SIZE);
        for (int i = 0; i < BATCH; i++) {
            int recv = RECV_MSGS + i * MMSGHDR;
            memory.setLongLE(recv + MSG_NAME, address + NAMES + (long) i * NAME);
            memory.setIntLE(recv + MSG_NAMELEN, NAME);
            memory.setLongLE(recv + MSG_IOV, address + RECV_IOVS + (long) i * IOVEC);
            memory.setLongLE(recv + MSG_IOVLEN, 1);
            if (fromDestination) {
                memory.setLongLE(recv + MSG_CONTROL, address + CONTROLS + (long) i * CONTROL);
                memory.setLongLE(recv + MSG_CONTROLLEN, CONTROL);
            }
            memory.setLongLE(RECV_IOVS + i * IOVEC, address + DATA + (long) i * SLOT);
            memory.setLongLE(RECV_IOVS + i * IOVEC + 8, SLOT);
            int send = SEND_MSGS + i * MMSGHDR;
            memory.setLongLE(send + MSG_IOV, address + SEND_IOVS + (long) i * IOVEC);
            memory.setLongLE(send + MSG_IOVLEN, 1);
            queries[i] = memory.slice(DATA + i * SLOT, SLOT);
        }
    }

    /**
     * Whether this process can read with the handle: Linux through JNA, a 64-bit little-endian
     * machine, and native addresses for Netty's direct buffers.
     */
    static boolean available() {
        return AVAILABLE;
    }

    private static boolean probe() {
        if (!LibC.available() || !Platform.is64Bit() || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            return false;
        }
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(1);
        ByteBuf unpooled = Unpooled.directBuffer(1);
        try {
            return pooled.hasMemoryAddress() && unpooled.hasMemoryAddress();
        } finally {
            pooled.release();
            unpooled.release();
        }
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        if (closed) {
            return;
        }
        int received = LibC.recvmmsg(fd.intValue(), address + RECV_MSGS, BATCH, LibC.MSG_DONTWAIT, 0L);
        if (received <= 0) {
            // EAGAIN: the other loop reading this socket took the datagrams first.
            return;
        }
        int count = 0;
        for (int i = 0; i < received; i++) {
            ByteBuf response = answer(i);
            if (response != null) {
                int send = SEND_MSGS + count * MMSGHDR;
                int recv = RECV_MSGS + i * MMSGHDR;
                memory.setLongLE(send + MSG_NAME, address + NAMES + (long) i * NAME);
                memory.setIntLE(send + MSG_NAMELEN, memory.getIntLE(recv + MSG_NAMELEN));
                memory.setLongLE(SEND_IOVS + count * IOVEC, response.memoryAddress() + response.readerIndex());
                memory.setLongLE(SEND_IOVS + count * IOVEC + 8, response.readableBytes());
                if (fromDestination) {
                    source(recv, send, i);
                }
                responses[count++] = response;
            }
            memory.setIntLE(RECV_MSGS + i * MMSGHDR + MSG_NAMELEN, NAME);
            if (fromDestination) {
                memory.setLongLE(RECV_MSGS + i * MMSGHDR + MSG_CONTROLLEN, CONTROL);
            }
        }
        send(count);
    }

    /** The answer to the datagram in slot {@code i}, in a buffer with a native address, or null for none. */
    private ByteBuf answer(int i) {
        ByteBuf query = queries[i].setIndex(0, memory.getIntLE(RECV_MSGS + i * MMSGHDR + MSG_LEN));
        return answers.answer(query, memory, NAMES + i * NAME, ipv6, alloc);
    }

    /**
     * Has the answer in send slot {@code send} leave from the destination of the query received
     * in slot {@code i} (its mmsghdr at {@code recv}): the control message received with it, sent
     * back ({@link #destination}), or none when it did not come whole: the route's choice then.
     */
    private void source(int recv, int send, int i) {
        long length = memory.getLongLE(recv + MSG_CONTROLLEN);
        int control = CONTROLS + i * CONTROL;
        boolean whole = (memory.getIntLE(recv + MSG_FLAGS) & MSG_CTRUNC) == 0;
        boolean usable = whole && destination(memory, control, length);
        memory.setLongLE(send + MSG_CONTROL, usable ? address + control : 0);
        memory.setLongLE(send + MSG_CONTROLLEN, usable ? length : 0);
    }

    /**
     * Whether the control message received at {@code control} in {@code memory} ({@code length}
     * bytes) is a datagram's destination ({@code IP_PKTINFO}, {@code IPV6_PKTINFO}), and if so makes
     * it the source of the answer: its interface is cleared, so that the route to the client still
     * chooses that (the source address alone is kept), except for an IPv6 link-local address,
     * which needs it. Shared with {@link UdpRingHandle}.
     */
    static boolean destination(ByteBuf memory, int control, long length) {
        int level = memory.getIntLE(control + CMSG_LEVEL);
        int type = memory.getIntLE(control + CMSG_TYPE);
        boolean ipv4 = level == IPPROTO_IP && type == IP_PKTINFO_TYPE && length >= CMSG_DATA + IN_PKTINFO;
        boolean ipv6 = level == IPPROTO_IPV6 && type == IPV6_PKTINFO_TYPE && length >= CMSG_DATA + IN6_PKTINFO;
        if (length > CONTROL || !(ipv4 || ipv6)) {
            return false;
        }
        if (ipv4) {
            memory.setIntLE(control + CMSG_DATA, 0); // struct in_pktinfo's ipi_ifindex
        } else if (!linkLocal(memory, control + CMSG_DATA)) {
            memory.setIntLE(control + CMSG_DATA + 16, 0); // struct in6_pktinfo's ipi6_ifindex
        }
        return true;
    }

    /** Whether the IPv6 address at {@code at} is link-local ({@code fe80::/10}), which means nothing without its interface. */
    private static boolean linkLocal(ByteBuf memory, int at) {
        return (memory.getByte(at) & 0xFF) == 0xFE && (memory.getByte(at + 1) & 0xC0) == 0x80;
    }

    /** Sends the first {@code count} answers, then releases them. */
    private void send(int count) {
        sendAll(fd.intValue(), address + SEND_MSGS, count, responses);
    }

    /**
     * Sends the {@code count} datagrams of the {@code struct mmsghdr} array at {@code msgs}
     * ({@code sendmmsg}), then releases their buffers, {@code responses[0..count)}; one that fails
     * is dropped, as by NSD. Shared with {@link UdpRingHandle}.
     */
    static void sendAll(int fd, long msgs, int count, ByteBuf[] responses) {
        int sent = 0;
        while (sent < count) {
            int n = LibC.sendmmsg(fd, msgs + (long) sent * MMSGHDR, count - sent, LibC.MSG_DONTWAIT);
            if (n > 0) {
                sent += n;
            } else {
                log.debug("udp: an answer not sent: errno {}", Native.getLastError());
                sent++;
            }
        }
        for (int i = 0; i < count; i++) {
            responses[i].release();
            responses[i] = null;
        }
    }

    @Override
    public void unregistered() {
        close();
    }

    /** Closes the descriptor and frees the buffer; called on the event loop (or once it has stopped). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            fd.close();
        } catch (IOException e) {
            log.debug("udp: closing descriptor {}: {}", fd.intValue(), e.toString());
        }
        memory.release();
    }
}
