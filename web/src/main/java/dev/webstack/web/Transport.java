package dev.webstack.web;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket transport of the web tier, client and app server sides alike: io_uring when the kernel
 * offers it, else native epoll, else NIO.
 *
 * <p>io_uring is the default because it costs less CPU per request here: a request and its answer
 * take a submission and a completion instead of an {@code epoll_wait} wake-up and a system call
 * each; on this project's 2-core bench the proxy answered about a fifth more requests per second
 * than on epoll (see {@code bench/README.md}). Files go out with sendfile on both: Netty does it
 * on epoll, {@link SendfileHandler} on io_uring (where Netty would splice them through a pipe).
 * The system property
 * {@value #PROPERTY}, else the environment variable {@value #ENVIRONMENT} ({@code io_uring},
 * {@code epoll}, {@code nio}; default {@code auto}) picks one; a transport the platform lacks
 * falls back to the next one.
 */
record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends Channel> socketChannel) {

    static final String PROPERTY = "webstack.transport";
    /** The same choice for every tier process {@code ./webstack up} starts, which inherit the environment. */
    static final String ENVIRONMENT = "WEBSTACK_TRANSPORT";
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    static Transport best() {
        String env = System.getenv(ENVIRONMENT);
        String wanted = System.getProperty(PROPERTY, env == null ? "auto" : env).toLowerCase(Locale.ROOT);
        if (wanted.equals("nio")) {
            return nio();
        }
        if (!wanted.equals("epoll")) {
            if (IoUring.isAvailable()) {
                return new Transport("io_uring", IoUringIoHandler.newFactory(),
                        IoUringServerSocketChannel.class, IoUringSocketChannel.class);
            }
            log.debug("io_uring unavailable: {}", String.valueOf(IoUring.unavailabilityCause()));
        }
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
        }
        log.debug("epoll unavailable, using NIO: {}", String.valueOf(Epoll.unavailabilityCause()));
        return nio();
    }

    static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    /**
     * Sets TCP_CORK on {@code ch} (like nginx's {@code tcp_nopush}: partial segments are held back
     * until uncorked); false when the transport has no such option (NIO) or the socket refused it
     * (closed already).
     */
    static boolean cork(Channel ch, boolean on) {
        ChannelOption<Boolean> option = ch instanceof IoUringSocketChannel ? IoUringChannelOption.TCP_CORK
                : ch instanceof EpollSocketChannel ? EpollChannelOption.TCP_CORK
                : null;
        if (option == null || !ch.isOpen()) {
            return false;
        }
        try {
            return ch.config().setOption(option, on);
        } catch (ChannelException e) {
            log.debug("TCP_CORK {} on {}: {}", on, ch.remoteAddress(), e.toString());
            return false;
        }
    }
}
