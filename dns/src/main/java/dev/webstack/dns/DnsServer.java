package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The authoritative DNS server of the stack's zones, over UDP and TCP on one address (RFC 1035
 * section 4.2, RFC 7766: a server must answer over TCP too).
 *
 * <p>{@link #start} loads every zone first, so a bad zone file fails with {@code path:line: reason}
 * before anything listens; then it binds UDP, then TCP on the same port (with port 0, the port the
 * system gave to UDP). It returns once both listen, and leaves nothing bound if either fails.
 * Native epoll is used when available, else NIO.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><td>UDP query size</td><td>{@value #MAX_UDP_QUERY} bytes; queries are a few dozen
 *       bytes, and no resolver sends one this large</td></tr>
 *   <tr><td>UDP response size</td><td>512 bytes, or with EDNS the client's size capped at
 *       {@code dns.udp-payload} (default 1232); see {@link QueryHandler}</td></tr>
 *   <tr><td>TCP idle timeout</td><td>{@value #TCP_IDLE_SECONDS} s without a query or an answer
 *       closes the connection (RFC 7766 section 6.2.3)</td></tr>
 *   <tr><td>TCP message size</td><td>65535 bytes, the largest the 2-byte length can say</td></tr>
 * </table>
 */
public final class DnsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsServer.class);

    /** Idle time after which a TCP connection is closed. */
    static final int TCP_IDLE_SECONDS = 30;
    /** Largest UDP query read whole; a longer datagram is cut off, and then most likely answered FORMERR. */
    static final int MAX_UDP_QUERY = 4096;
    /** How often a port-0 start tries again when TCP cannot have the port UDP was given. */
    private static final int EPHEMERAL_ATTEMPTS = 5;

    private final EventLoopGroup group;
    private final Channel udp;
    private final Channel tcp;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DnsServer(EventLoopGroup group, Channel udp, Channel tcp) {
        this.group = group;
        this.udp = udp;
        this.tcp = tcp;
        this.port = ((InetSocketAddress) udp.localAddress()).getPort();
    }

    /**
     * Loads the zones of {@code config} and listens on {@code config.listen()}.
     *
     * @throws dev.webstack.common.config.ConfigException a zone file that cannot be used
     * @throws UncheckedIOException                       the address cannot be bound
     */
    public static DnsServer start(DnsConfig config) {
        List<ZoneData> zones = ZoneLoader.loadAll(config);
        for (ZoneData zone : zones) {
            ZoneCheck.check(zone).forEach(problem -> log.warn("dns: {}", problem));
        }
        QueryHandler queries = new QueryHandler(new Authority(zones), config.udpPayload());

        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("dns"), io);
        try {
            DnsServer server = bind(group, epoll, queries, config.listen().toSocketAddress());
            log.info("dns: serving {} on {}:{} (udp and tcp, {})", zones.stream().map(ZoneData::origin).toList(),
                    config.listen().host(), server.port, epoll ? "epoll" : "nio");
            return server;
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    private static DnsServer bind(EventLoopGroup group, boolean epoll, QueryHandler queries, InetSocketAddress address) {
        Bootstrap udpBootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_UDP_QUERY))
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new UdpHandler(queries));
                    }
                });
        Class<? extends ServerChannel> serverChannel = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap tcpBootstrap = new ServerBootstrap()
                .group(group)
                .channel(serverChannel)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(
                                new IdleStateHandler(0, 0, TCP_IDLE_SECONDS, TimeUnit.SECONDS),
                                new LengthFieldBasedFrameDecoder(QueryHandler.TCP_SIZE + 2, 0, 2, 0, 2),
                                new LengthFieldPrepender(2),
                                new TcpHandler(queries));
                    }
                });

        int attempts = address.getPort() == 0 ? EPHEMERAL_ATTEMPTS : 1;
        for (int attempt = 1; ; attempt++) {
            Channel udp = await(udpBootstrap.bind(address), "udp", address);
            InetSocketAddress bound = new InetSocketAddress(address.getAddress(), ((InetSocketAddress) udp.localAddress()).getPort());
            try {
                Channel tcp = await(tcpBootstrap.bind(bound), "tcp", bound);
                return new DnsServer(group, udp, tcp);
            } catch (UncheckedIOException e) {
                udp.close().awaitUninterruptibly();
                if (attempt >= attempts) {
                    throw e;
                }
                // Port 0: the port UDP got is taken for TCP; ask for another one.
                log.debug("dns: {}, trying another port", e.getMessage());
            }
        }
    }

    private static Channel await(ChannelFuture bind, String protocol, InetSocketAddress address) {
        bind.awaitUninterruptibly();
        if (!bind.isSuccess()) {
            Throwable cause = bind.cause();
            String message = "dns: cannot listen on " + protocol + " " + address.getHostString() + ":" + address.getPort()
                    + ": " + cause.getMessage();
            throw new UncheckedIOException(message, cause instanceof IOException io ? io : new IOException(cause));
        }
        return bind.channel();
    }

    /** The port UDP and TCP listen on: the configured one, or the one the system chose for 0. */
    public int port() {
        return port;
    }

    /**
     * Stops listening, then stops the event-loop threads, which closes the open TCP connections.
     * Each query is answered within one event-loop task, so none is left half-answered. Calling it
     * again does nothing.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        udp.close().awaitUninterruptibly();
        tcp.close().awaitUninterruptibly();
        group.shutdownGracefully(100, 5_000, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        log.info("dns: stopped listening on port {}", port);
    }
}
