package dev.webstack.dns;

import dev.webstack.common.process.TransportChoice;
import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS tier's event loops and sockets: io_uring when the kernel offers it (and JNA is there for
 * {@code sendmmsg}), else native epoll, else NIO, asked for as the web tier's transport is
 * ({@link TransportChoice}: {@code -Dwebstack.transport}, {@code WEBSTACK_TRANSPORT}); one the
 * platform lacks falls back to the next.
 *
 * <p>Why io_uring first: a lone query costs fewer trips into the kernel. On epoll a loop wakes from
 * {@code epoll_wait}, reads with {@code recvmmsg}, answers with {@code sendmmsg} and goes back to
 * {@code epoll_wait}; on io_uring the datagram is read while the loop is still in the kernel that
 * woke it ({@link UdpRingHandle}: one multishot receive stays armed), so the answer goes out with
 * one system call less, and a loop woken for a datagram another loop took goes back to sleep
 * without coming out of the kernel at all. On the 2-core bench: about 1-3 µs less per query at
 * 5,000 queries/s, 2-5% less CPU per answer saturated, and a lower saturated p99 than NSD's
 * ({@code bench/README.md}).
 */
enum DnsTransport {
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private static final Logger log = LoggerFactory.getLogger(DnsTransport.class);

    private final String label;

    DnsTransport(String label) {
        this.label = label;
    }

    /** The transport asked for ({@link TransportChoice#wanted}), or the best this platform has. */
    static DnsTransport best() {
        String wanted = TransportChoice.wanted();
        if (wanted.equals("nio")) {
            return NIO;
        }
        if (!wanted.equals("epoll")) {
            if (IO_URING.available()) {
                return IO_URING;
            }
            log.debug("dns: io_uring unavailable ({}), or without multishot receive or JNA", String.valueOf(IoUring.unavailabilityCause()));
        }
        return EPOLL.available() ? EPOLL : NIO;
    }

    /**
     * Whether this process can use the transport: io_uring with multishot receive (Linux 6.0) and
     * {@link UdpBatchHandle#available} (JNA, the struct layouts), epoll with Netty's native library.
     */
    boolean available() {
        return switch (this) {
            case IO_URING -> IoUring.isAvailable() && IoUring.isRecvMultishotEnabled() && UdpBatchHandle.available();
            case EPOLL -> Epoll.isAvailable();
            case NIO -> true;
        };
    }

    /** Whether the sockets are Netty's native ones: one UDP socket per event loop ({@code SO_REUSEPORT}), raw socket options. */
    boolean isNative() {
        return this != NIO;
    }

    IoHandlerFactory ioHandlerFactory() {
        return switch (this) {
            case IO_URING -> IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
    }

    /** A UDP socket of {@code family} (the address's) on the native transports; on NIO of the JDK's default family. */
    Channel udpChannel(SocketProtocolFamily family) {
        return switch (this) {
            case IO_URING -> new IoUringDatagramChannel(family);
            case EPOLL -> new EpollDatagramChannel(family);
            case NIO -> new NioDatagramChannel();
        };
    }

    /**
     * A TCP listening socket of {@code family} on epoll; on io_uring always an IPv6 one (Netty has
     * no other), which takes IPv4 as mapped addresses; on NIO of the JDK's default family.
     */
    ServerChannel tcpChannel(SocketProtocolFamily family) {
        return switch (this) {
            case IO_URING -> new IoUringServerSocketChannel();
            case EPOLL -> new EpollServerSocketChannel(family);
            case NIO -> new NioServerSocketChannel();
        };
    }

    @Override
    public String toString() {
        return label;
    }
}
