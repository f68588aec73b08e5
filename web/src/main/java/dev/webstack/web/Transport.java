package dev.webstack.web;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket transport: native epoll when the platform has it, NIO otherwise.
 *
 * <p>The epoll classes are looked up by name because the native jar is a runtime-only dependency
 * (netty-bom scopes the classifier jars {@code runtime}); a missing jar or an unusable native library
 * simply means NIO.
 */
record Transport(
        String name,
        IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends Channel> socketChannel) {

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    static Transport best() {
        return epoll().orElseGet(Transport::nio);
    }

    static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    private static Optional<Transport> epoll() {
        try {
            Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll");
            if (!(Boolean) epoll.getMethod("isAvailable").invoke(null)) {
                Throwable why = (Throwable) epoll.getMethod("unavailabilityCause").invoke(null);
                log.debug("epoll unavailable, using NIO: {}", String.valueOf(why));
                return Optional.empty();
            }
            IoHandlerFactory factory = (IoHandlerFactory) Class.forName("io.netty.channel.epoll.EpollIoHandler")
                    .getMethod("newFactory").invoke(null);
            return Optional.of(new Transport("epoll", factory,
                    Class.forName("io.netty.channel.epoll.EpollServerSocketChannel").asSubclass(ServerChannel.class),
                    Class.forName("io.netty.channel.epoll.EpollSocketChannel").asSubclass(Channel.class)));
        } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
            log.debug("epoll not on the class path, using NIO: {}", e.toString());
            return Optional.empty();
        }
    }
}
