package dev.webstack.web;

import dev.webstack.common.process.TransportChoice;
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
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringFixedBufferRingAllocator;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Map;
import java.util.function.BiConsumer;
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
        Class<? extends Channel> socketChannel,
        Map<ChannelOption<?>, Object> socketOptions) {

    static final String PROPERTY = TransportChoice.PROPERTY;
    static final String ENVIRONMENT = TransportChoice.ENVIRONMENT;
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /**
     * io_uring: each event loop registers a ring of {@value #RECV_BUFFERS} receive buffers of
     * {@value #RECV_BUFFER_BYTES} bytes with the kernel, and every connection of the loop receives
     * into it with one multishot {@code recv} that stays armed, instead of a new {@code recv}
     * (and a buffer of its own) after every read: about a fifth less CPU per small answer here
     * ({@code bench/README.md}). An idle connection holds no buffer; when the ring runs dry,
     * Netty falls back to plain reads until buffers come back.
     */
    static final int RECV_BUFFERS = 512;
    static final int RECV_BUFFER_BYTES = 4096;
    private static final short RECV_BUFFER_GROUP = 0;

    static Transport best() {
        String wanted = TransportChoice.wanted();
        if (wanted.equals("nio")) {
            return nio();
        }
        if (!wanted.equals("epoll")) {
            if (IoUring.isAvailable()) {
                return ioUring();
            }
            log.debug("io_uring unavailable: {}", String.valueOf(IoUring.unavailabilityCause()));
        }
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class,
                    Map.of());
        }
        log.debug("epoll unavailable, using NIO: {}", String.valueOf(Epoll.unavailabilityCause()));
        return nio();
    }

    static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                Map.of());
    }

    private static Transport ioUring() {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig();
        Map<ChannelOption<?>, Object> socketOptions = Map.of();
        if (IoUring.isRegisterBufferRingSupported()) {
            config.setBufferRingConfig(IoUringBufferRingConfig.builder()
                    .bufferGroupId(RECV_BUFFER_GROUP)
                    .bufferRingSize((short) RECV_BUFFERS)
                    .batchSize(RECV_BUFFERS / 8)
                    .allocator(new IoUringFixedBufferRingAllocator(RECV_BUFFER_BYTES))
                    .build());
            socketOptions = Map.of(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, RECV_BUFFER_GROUP);
        }
        return new Transport("io_uring", IoUringIoHandler.newFactory(config), IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, socketOptions);
    }

    /** Sets {@link #socketOptions} with {@code setter} (a bootstrap's {@code option} or {@code childOption}). */
    @SuppressWarnings("unchecked")
    void applySocketOptions(BiConsumer<ChannelOption<Object>, Object> setter) {
        socketOptions.forEach((option, value) -> setter.accept((ChannelOption<Object>) option, value));
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
