package dev.webstack.dns;

import dev.webstack.common.process.LibC;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoOps;
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
 * @param registration the {@link UdpBatchHandle} reading it on {@code loop}; null when the channel
 *                     reads itself ({@link UdpHandler})
 */
record UdpReader(Channel socket, EventLoop loop, IoRegistration registration) {

    /**
     * Has {@code loop} read {@code socket} (an epoll channel Netty does not read) through a
     * {@link UdpBatchHandle} on a duplicate of its descriptor. A socket bound to the wildcard
     * address is asked for each datagram's destination, which its answer leaves from.
     *
     * @throws UncheckedIOException the descriptor cannot be duplicated, or the loop refuses it
     */
    static UdpReader batched(Channel socket, EventLoop loop, UdpAnswers answers) {
        InetSocketAddress local = (InetSocketAddress) socket.localAddress();
        boolean wildcard = local.getAddress().isAnyLocalAddress();
        if (wildcard) {
            boolean set = socket.config().setOption(local.getAddress() instanceof Inet6Address
                    ? UdpBatchHandle.IPV6_RECVPKTINFO : UdpBatchHandle.IP_PKTINFO, 1);
            if (!set) {
                throw new UncheckedIOException(new IOException("dns: cannot ask udp socket " + local + " for each datagram's destination"));
            }
        }
        int fd = ((EpollDatagramChannel) socket).fd().intValue();
        int duplicate = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        if (duplicate < 0) {
            throw new UncheckedIOException(new IOException("dns: cannot duplicate udp socket " + fd));
        }
        UdpBatchHandle handle = new UdpBatchHandle(duplicate, answers, wildcard);
        Future<IoRegistration> registered = ((IoEventLoop) loop).register(handle).awaitUninterruptibly();
        if (!registered.isSuccess()) {
            handle.close();
            throw new UncheckedIOException(new IOException("dns: cannot read udp socket " + fd + " on an event loop", registered.cause()));
        }
        IoRegistration registration = registered.getNow();
        // Level-triggered: a wake-up that leaves datagrams in the socket is followed by another.
        registration.submit(EpollIoOps.EPOLLIN);
        return new UdpReader(socket, loop, registration);
    }

    /** Whether a {@link UdpBatchHandle} reads the socket (else Netty's channel, {@link UdpHandler}). */
    boolean batched() {
        return registration != null;
    }

    /** Stops reading, and closes the duplicate descriptor (the channel stays open); waits for the loop to do it. */
    void close() {
        if (registration == null) {
            return;
        }
        try {
            loop.submit(registration::cancel).awaitUninterruptibly(5, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            // The loop has stopped, which closed its registrations.
        }
    }
}
