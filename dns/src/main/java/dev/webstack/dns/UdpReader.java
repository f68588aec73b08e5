package dev.webstack.dns;

import dev.webstack.common.process.LibC;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One reader of a UDP socket: the event loop that reads it, and how.
 *
 * @param socket       the socket's channel
 * @param loop         the event loop reading it
 * @param registration the handle reading it on {@code loop} ({@link UdpRingHandle} on io_uring,
 *                     {@link UdpBatchHandle} on epoll); null when the channel reads itself ({@link UdpHandler})
 * @param ring         the {@link UdpRingHandle}, on io_uring; else null
 */
record UdpReader(Channel socket, EventLoop loop, IoRegistration registration, UdpRingHandle ring) {

    /**
     * Has {@code loop} read {@code socket} (a native channel Netty does not read) through a handle of
     * ours on a duplicate of its descriptor: a {@link UdpRingHandle} with buffer group {@code group}
     * on io_uring, a {@link UdpBatchHandle} on epoll. A socket bound to the wildcard address is asked
     * for each datagram's destination, which its answer leaves from.
     *
     * @param group the ring's buffer group for this reader, unique among the readers of {@code loop}
     * @throws UncheckedIOException the descriptor cannot be duplicated, or the loop refuses it
     */
    static UdpReader of(Channel socket, EventLoop loop, UdpAnswers answers, int group) {
        InetSocketAddress local = (InetSocketAddress) socket.localAddress();
        boolean wildcard = local.getAddress().isAnyLocalAddress();
        if (wildcard) {
            boolean set = socket.config().setOption(local.getAddress() instanceof Inet6Address
                    ? UdpBatchHandle.IPV6_RECVPKTINFO : UdpBatchHandle.IP_PKTINFO, 1);
            if (!set) {
                throw new UncheckedIOException(new IOException("dns: cannot ask udp socket " + local + " for each datagram's destination"));
            }
        }
        int fd = ((UnixChannel) socket).fd().intValue();
        int duplicate = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        if (duplicate < 0) {
            throw new UncheckedIOException(new IOException("dns: cannot duplicate udp socket " + fd));
        }
        boolean onRing = socket instanceof IoUringDatagramChannel;
        UdpRingHandle ring = onRing ? new UdpRingHandle(duplicate, answers, wildcard, (short) group, (DnsEventLoopGroup.DnsEventLoop) loop) : null;
        IoHandle handle = onRing ? ring : new UdpBatchHandle(duplicate, answers, wildcard);
        Future<IoRegistration> registered = ((IoEventLoop) loop).register(handle).awaitUninterruptibly();
        if (!registered.isSuccess()) {
            closeQuietly(handle);
            throw new UncheckedIOException(new IOException("dns: cannot read udp socket " + fd + " on an event loop", registered.cause()));
        }
        IoRegistration registration = registered.getNow();
        if (onRing) {
            Future<?> started = loop.submit(() -> ring.start(registration)).awaitUninterruptibly();
            if (!started.isSuccess()) {
                loop.submit(ring::close).awaitUninterruptibly();
                throw new UncheckedIOException(new IOException("dns: cannot read udp socket " + fd + " on io_uring", started.cause()));
            }
        } else {
            // Level-triggered: a wake-up that leaves datagrams in the socket is followed by another.
            registration.submit(EpollIoOps.EPOLLIN);
        }
        return new UdpReader(socket, loop, registration, ring);
    }

    private static void closeQuietly(IoHandle handle) {
        try {
            handle.close();
        } catch (Exception e) {
            // Never registered: nothing of it is in use.
        }
    }

    /** Whether a handle of ours reads the socket (else Netty's channel, {@link UdpHandler}). */
    boolean batched() {
        return registration != null;
    }

    /** Stops reading, and closes the duplicate descriptor (the channel stays open); waits for the loop to do it. */
    void close() {
        if (registration == null) {
            return;
        }
        try {
            loop.submit(ring != null ? ring::close : registration::cancel).awaitUninterruptibly(5, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            // The loop has stopped, which closed its registrations.
        }
    }
}
