package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;

/**
 * The authoritative DNS server of the stack's zones, over UDP and TCP (RFC 1035 section 4.2,
 * RFC 7766: a server must answer over TCP too) on each address of {@code dns.listen} (one, or a
 * list as NSD's {@code ip-address} lines). Each UDP answer leaves from the address its query came
 * to, which a client checks: on a socket bound to the wildcard address too, where
 * {@link UdpBatchHandle} reads it (it asks the kernel for each datagram's destination); Netty's
 * channels cannot, and a warning says so.
 *
 * <p>{@link #start} loads every zone first, so a bad zone file fails with {@code path:line: reason}
 * before anything listens; then, address by address, it binds UDP, then TCP on the same port (with
 * port 0, the port the system gave to UDP). It returns once all listen, and leaves nothing bound
 * if any fails.
 * The answers are precompiled after that, on a thread of its own, and again after each reload:
 * until they are, each query is answered by the slow path and its answer kept (a 100,000-name zone
 * answers about 1.5 s sooner, and reloads within the heap the supervisor gives the tier).
 * The loops run on io_uring where the kernel offers it, else native epoll, else NIO
 * ({@link DnsTransport}).
 *
 * <p>One event loop per CPU. On io_uring and epoll each loop has its own UDP socket on the same port
 * ({@code SO_REUSEPORT}), and the kernel hands each datagram to one of them, chosen datagram by
 * datagram ({@link DatagramSpread}), so that a few busy clients keep every loop busy: with
 * {@code dns.cpu-affinity} (the default) each loop runs on a CPU of its own ({@link #pinLoops}) and
 * a datagram goes to the loop on the CPU after the one delivering it, else to one at random. The
 * next loop reads each socket too unless {@code dns.udp-readers} is {@code own}
 * ({@link #readInBatches}). A handle of our own reads and answers the datagrams, with no object
 * made per query: {@link UdpRingHandle} on io_uring, {@link UdpBatchHandle} on epoll; without JNA,
 * Netty's channel reads them ({@link UdpHandler}), each by its own loop only. Else (NIO) one UDP
 * socket serves all, read by Netty's channel.
 * TCP is bound without {@code SO_REUSEPORT}, so a second server on a taken port still fails to
 * start (its UDP sockets are closed again). Queries are answered by a {@link Responder} (prepared
 * answers, then {@link QueryHandler}); {@link #reload} swaps it atomically. UDP answers are rate
 * limited per client network ({@link RateLimit}, on by default with NSD's settings).
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><td>UDP query size</td><td>{@value #MAX_UDP_QUERY} bytes; queries are a few dozen
 *       bytes, and no resolver sends one this large</td></tr>
 *   <tr><td>UDP response size</td><td>512 bytes, or with EDNS the client's size capped at
 *       {@code dns.udp-payload} (default 1232); see {@link QueryHandler}</td></tr>
 *   <tr><td>UDP socket buffers</td><td>{@value #UDP_SOCKET_BUFFER} bytes each way, capped by
 *       the kernel at {@code net.core.rmem_max} / {@code wmem_max}</td></tr>
 *   <tr><td>TCP idle timeout</td><td>{@value #TCP_IDLE_SECONDS} s without a query or an answer
 *       closes the connection (RFC 7766 section 6.2.3)</td></tr>
 *   <tr><td>TCP message size</td><td>65535 bytes, the largest the 2-byte length can say</td></tr>
 *   <tr><td>TCP connections</td><td>{@code dns.tcp-connections} open at once (default 1000),
 *       {@link TcpConnections}; one over it is closed when accepted</td></tr>
 * </table>
 */
public final class DnsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsServer.class);

    /** Idle time after which a TCP connection is closed. */
    static final int TCP_IDLE_SECONDS = 30;
    /** Largest UDP query read whole; a longer datagram is cut off, and then most likely answered FORMERR. */
    static final int MAX_UDP_QUERY = 4096;
    /** The most datagrams read by one system call on epoll ({@code recvmmsg}: {@link UdpBatchHandle}, or under load {@link DatagramReads}). */
    static final int RECV_BATCH = 16;
    /** Kernel receive and send buffer of each UDP socket. */
    static final int UDP_SOCKET_BUFFER = 4 << 20;
    /** {@code setsockopt(IPPROTO_IPV6, IPV6_V6ONLY)}: an IPv6 socket that takes no IPv4 (mapped) traffic. */
    private static final IntegerUnixChannelOption IPV6_V6ONLY = new IntegerUnixChannelOption("IPV6_V6ONLY", 41, 26);
    /** How often a port-0 start tries again when TCP cannot have the port UDP was given. */
    private static final int EPHEMERAL_ATTEMPTS = 5;

    private final EventLoopGroup group;
    private final List<Channel> udp;
    private final List<UdpReader> readers;
    private final List<Channel> tcp;
    private final int port;
    private final AtomicReference<Responder> responder;
    private final AtomicReference<RateLimiter> limiter;
    private final TcpConnections connections;
    private final Notifier notifier;
    private final ZoneTransfer transfers;
    private final DnsMetrics metrics; // null without dns.metrics
    private final IxfrStore ixfr; // null: the IXFR history in memory only
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Renders the answers of the zones served, one set at a time ({@link #precompileInBackground}). */
    private final ExecutorService precompiler = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("dns-precompile")
            .daemon().unstarted(r));
    private final Object reloadLock = new Object();
    private DnsConfig config; // guarded by reloadLock
    private List<ZoneData> zones; // guarded by reloadLock
    /** The digest of each zone's file as served ({@link ZoneLoader.Source#digest}); none for a file a reload must read again. */
    private Map<Name, byte[]> sources; // guarded by reloadLock
    private volatile FrontDoors frontDoors;

    private DnsServer(EventLoopGroup group, List<Channel> udp, List<UdpReader> readers, List<Channel> tcp, AtomicReference<Responder> responder,
                      AtomicReference<RateLimiter> limiter, TcpConnections connections, DnsConfig config, List<ZoneData> zones, Notifier notifier,
                      ZoneTransfer transfers, DnsMetrics metrics, IxfrStore ixfr, Map<Name, byte[]> sources) {
        this.notifier = notifier;
        this.metrics = metrics;
        this.ixfr = ixfr;
        this.transfers = transfers;
        this.group = group;
        this.udp = List.copyOf(udp);
        this.readers = List.copyOf(readers);
        this.tcp = List.copyOf(tcp);
        this.port = ((InetSocketAddress) udp.get(0).localAddress()).getPort();
        this.responder = responder;
        this.limiter = limiter;
        this.connections = connections;
        this.config = config;
        this.zones = zones;
        this.sources = sources;
    }

    /**
     * Loads the zones of {@code config} and listens on the addresses of {@code dns.listen}, with the rate limit,
     * transfer clients and NOTIFY targets the config names ({@link DnsOptions#from}; by default
     * NSD's rate limit: 200 UDP answers per second per /24, slip 2).
     *
     * @throws dev.webstack.common.config.ConfigException a zone file that cannot be used
     * @throws UncheckedIOException                       the address cannot be bound
     */
    public static DnsServer start(DnsConfig config) {
        return start(config, DnsOptions.from(config));
    }

    /**
     * Loads the zones of {@code config} and listens on the addresses of {@code dns.listen}, with the rate limit,
     * zone transfer clients and NOTIFY targets of {@code options}.
     *
     * @throws dev.webstack.common.config.ConfigException a zone file that cannot be used
     * @throws UncheckedIOException                       the address cannot be bound
     */
    public static DnsServer start(DnsConfig config, DnsOptions options) {
        return start(config, options, DnsTransport.best(), true);
    }

    /**
     * As {@link #start(DnsConfig, DnsOptions)}, on {@code transport} (tests of each); on epoll
     * without {@code udpBatches} the UDP sockets are read by Netty's channels ({@link UdpHandler})
     * even where {@link UdpBatchHandle} could read them (tests of that path).
     *
     * @throws IllegalArgumentException io_uring without {@code udpBatches}: there only {@link UdpRingHandle} reads
     */
    static DnsServer start(DnsConfig config, DnsOptions options, DnsTransport transport, boolean udpBatches) {
        if (transport == DnsTransport.IO_URING && !udpBatches) {
            throw new IllegalArgumentException("io_uring reads udp with its own handle only");
        }
        RateLimit rateLimit = options.rateLimit();
        ZoneTransfer transfers = new ZoneTransfer(options.transferClients(), options.transferKeys());
        Notifier notifier = new Notifier(options.notifyTargets(), options.notifyKeys());
        AtomicReference<RateLimiter> limiter = new AtomicReference<>(new RateLimiter(rateLimit, System::currentTimeMillis));
        TcpConnections connections = new TcpConnections(config.tcpConnections());
        // Each file read once, for its digest and its records.
        Map<Name, byte[]> sources = new HashMap<>();
        List<ZoneData> zones = new ArrayList<>();
        for (DnsConfig.Zone zone : config.zones()) {
            ZoneLoader.Source read = ZoneLoader.read(zone.file());
            zones.add(ZoneLoader.load(zone, read));
            read.digest().ifPresent(d -> sources.put(Name.fromConstantString(zone.origin()), d));
        }
        zones = List.copyOf(zones);
        for (ZoneData zone : zones) {
            ZoneCheck.check(zone).forEach(problem -> log.warn("dns: {}", problem));
        }
        IxfrStore ixfr = options.ixfrDir().map(IxfrStore::new).orElse(null);
        if (ixfr != null) {
            // The differences kept before the restart, for the zones whose data they lead to.
            zones = zones.stream().map(z -> healthChecked(config, z.origin()) ? z : ixfr.restore(z)).toList();
        }
        // The answers are rendered once the sockets listen (precompileInBackground); until then the
        // slow path renders each the first time it is asked, so a large zone answers seconds sooner.
        Responder unprepared = new Responder(zones, config.udpPayload(), nsid(config), false);
        AtomicReference<Responder> responder = new AtomicReference<>(unprepared);

        int loops = Runtime.getRuntime().availableProcessors();
        EventLoopGroup group = new DnsEventLoopGroup(loops, new DefaultThreadFactory("dns"), transport.ioHandlerFactory());
        List<Channel> udp = new ArrayList<>();
        List<UdpReader> readers = new ArrayList<>();
        List<Channel> tcp = new ArrayList<>();
        try {
            // With SO_REUSEPORT the kernel spreads the datagrams over one socket per event loop;
            // without it (NIO), one socket serves all.
            int sockets = transport.isNative() ? loops : 1;
            DnsCounters counters = new DnsCounters();
            boolean batched = transport.isNative() && udpBatches && UdpBatchHandle.available();
            bind(group, transport, batched, sockets, config, new UdpAnswers(responder::get, limiter::get, transfers, counters),
                    responder::get, transfers, counters, connections, udp, readers, tcp);
            // An address that cannot be bound fails the start, and closes the sockets bound before it (below).
            DnsMetrics metrics = config.metrics().map(at -> DnsMetrics.start(at, counters, connections, () -> responder.get().zones())).orElse(null);
            DnsServer server = new DnsServer(group, udp, readers, tcp, responder, limiter, connections, config, zones, notifier, transfers, metrics, ixfr, sources);
            server.watchFrontDoors(config.healthChecks());
            log.info("dns: serving {} on {} (udp x{}{}, {} readers{}, and tcp, {}, rate limit {}{})",
                    zones.stream().map(ZoneData::origin).toList(), describe(server.addresses()), sockets,
                    server.tcp.size() > 1 ? " per address" : "", readers.size(),
                    readers.get(0).batched() ? " in batches" : "", transport, describe(rateLimit), metrics == null ? "" : ", metrics on http://"
                            + metrics.address().getHostString() + ":" + metrics.address().getPort() + "/metrics");
            server.precompileInBackground(unprepared);
            return server;
        } catch (RuntimeException e) {
            readers.forEach(UdpReader::close);
            udp.forEach(ch -> ch.close().awaitUninterruptibly());
            tcp.forEach(ch -> ch.close().awaitUninterruptibly());
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    /**
     * Binds every address of {@code dns.listen}: on each, {@code sockets} UDP channels, socket
     * {@code i} on event loop {@code i} (added to {@code udp}; their readers to {@code readers},
     * {@link UdpBatchHandle}s when {@code batched}, else the channels themselves: with
     * {@code dns.udp-readers: shared} the next loop's too), and one TCP channel (added to
     * {@code tcp}). With {@code dns.cpu-affinity} each loop runs on a CPU of its own, the same for
     * every address.
     */
    private static void bind(EventLoopGroup group, DnsTransport transport, boolean batched, int sockets, DnsConfig config, UdpAnswers answers,
                             Supplier<Responder> responder, ZoneTransfer transfers, DnsCounters counters, TcpConnections connections,
                             List<Channel> udp, List<UdpReader> readers, List<Channel> tcp) {
        Bootstrap udpBootstrap = new Bootstrap()
                .group(group)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_UDP_QUERY))
                // Room for a burst while the thread is busy (a GC pause): the default of about 200 KB
                // holds only a hundred or so datagrams. The kernel caps it at net.core.rmem_max.
                .option(ChannelOption.SO_RCVBUF, UDP_SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, UDP_SOCKET_BUFFER)
                .handler(new UdpHandler(answers));
        if (transport.isNative()) {
            udpBootstrap.option(UnixChannelOption.SO_REUSEPORT, true);
            if (batched) {
                udpBootstrap.option(ChannelOption.AUTO_READ, false);
            } else {
                // Under load, recvmmsg: one system call reads up to RECV_BATCH datagrams into slices of
                // one buffer (DatagramReads). The pooled allocator: a 64 KB read buffer is above what Netty 4.2's default (adaptive)
                // allocator pools, so each read got a buffer of its own, and on Java 25 freeing one closes a
                // shared memory arena, a handshake with every JVM thread: 60-80 µs per read, the largest
                // part of a lone query's latency (seen with -Xlog:handshake).
                udpBootstrap.option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                        .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_UDP_QUERY)
                        // One read per wake-up, then the answers go out (flush on read complete): a
                        // query waits behind at most RECV_BATCH others, not behind a dozen batches.
                        .option(ChannelOption.RECVBUF_ALLOCATOR, new DatagramReads(MAX_UDP_QUERY, RECV_BATCH));
            }
        }
        ServerBootstrap tcpBootstrap = new ServerBootstrap()
                .group(group)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (connections.admit(ch)) {
                            tcpPipeline(ch.pipeline(), responder, transfers, counters);
                        }
                    }
                });
        List<EventLoop> loops = new ArrayList<>();
        group.forEach(loop -> loops.add((EventLoop) loop));
        int[] cpus = null; // chosen with the first address's sockets
        // Each name resolved once.
        List<InetSocketAddress> addresses = config.addresses().stream().map(HostPort::toSocketAddress).toList();
        boolean ipv4Listed = addresses.stream().anyMatch(a -> a.getAddress() instanceof Inet4Address);
        for (InetSocketAddress address : addresses) {
            if (address.getAddress().isAnyLocalAddress() && !batched) {
                // UdpBatchHandle answers from each query's destination; Netty's channels cannot.
                log.warn("dns: listening on {} without the batched datagram path (io_uring or epoll, and JNA): on a host with several addresses "
                        + "a UDP answer may leave from another address than its query came to, and the client drops it; "
                        + "list the addresses in dns.listen instead", describe(List.of(address)));
            }
            Bootstrap udpHere = udpBootstrap.clone();
            ServerBootstrap tcpHere = tcpBootstrap.clone();
            // An IPv4 address gets IPv4 sockets on the native transports: Netty's default is an IPv6
            // socket taking IPv4 as mapped addresses, which costs every datagram a trip through the
            // IPv6 code and a 28-byte address both ways.
            boolean ipv4 = address.getAddress() instanceof Inet4Address;
            SocketProtocolFamily family = ipv4 ? SocketProtocolFamily.INET : SocketProtocolFamily.INET6;
            udpHere.channelFactory(() -> transport.udpChannel(family));
            tcpHere.channelFactory(() -> transport.tcpChannel(family));
            if (transport.isNative() && !ipv4 && ipv4Listed) {
                // An IPv4 address listed too: this one takes IPv6 only (as NSD's sockets do), or
                // [::] would claim the port of 0.0.0.0 as well.
                udpHere.option(IPV6_V6ONLY, 1);
                tcpHere.option(IPV6_V6ONLY, 1);
            }
            Listener listener = bindAddress(udpHere, tcpHere, loops, sockets, address);
            udp.addAll(listener.udp());
            tcp.add(listener.tcp());
            if (sockets > 1) {
                boolean first = cpus == null;
                if (first) {
                    cpus = config.cpuAffinity() ? pinLoops(listener.udp()) : new int[0];
                }
                spread(listener.udp().get(0), sockets, cpus, first);
            }
            if (batched) {
                readInBatches(listener.udp(), answers, sockets > 1 && config.udpReaders() == DnsConfig.UdpReaders.SHARED, readers);
            } else {
                listener.udp().forEach(ch -> readers.add(new UdpReader(ch, ch.eventLoop(), null, null)));
            }
        }
    }

    /** The sockets of one address: one UDP socket per event loop (one on NIO), and the TCP socket on the same port. */
    private record Listener(List<Channel> udp, Channel tcp) {}

    /**
     * Binds {@code sockets} UDP channels to {@code address}, socket {@code i} on {@code loops[i]},
     * then TCP to the same port (with port 0, the port the system gave to UDP; another one when TCP
     * cannot have it). Leaves nothing bound if it fails.
     *
     * @throws UncheckedIOException the address cannot be bound
     */
    private static Listener bindAddress(Bootstrap udpBootstrap, ServerBootstrap tcpBootstrap, List<EventLoop> loops, int sockets,
                                        InetSocketAddress address) {
        int attempts = address.getPort() == 0 ? EPHEMERAL_ATTEMPTS : 1;
        for (int attempt = 1; ; attempt++) {
            List<Channel> udp = new ArrayList<>();
            try {
                Channel first = await(udpBootstrap.clone(loops.get(0)).bind(address), "udp", address);
                udp.add(first);
                InetSocketAddress bound = new InetSocketAddress(address.getAddress(), ((InetSocketAddress) first.localAddress()).getPort());
                for (int i = 1; i < sockets; i++) {
                    udp.add(await(udpBootstrap.clone(loops.get(i)).bind(bound), "udp", bound));
                }
                return new Listener(List.copyOf(udp), await(tcpBootstrap.bind(bound), "tcp", bound));
            } catch (UncheckedIOException e) {
                udp.forEach(ch -> ch.close().awaitUninterruptibly());
                if (attempt >= attempts) {
                    throw e;
                }
                // Port 0: the port UDP got is taken for TCP (or by another SO_REUSEPORT socket); ask for another one.
                log.debug("dns: {}, trying another port", e.getMessage());
            }
        }
    }

    /** The handlers of one TCP connection: idle timeout, the 2-byte length framing, the queries. */
    static void tcpPipeline(ChannelPipeline pipeline, Supplier<Responder> responder, ZoneTransfer transfers, DnsCounters counters) {
        pipeline.addLast(
                new IdleStateHandler(0, 0, TCP_IDLE_SECONDS, TimeUnit.SECONDS),
                new LengthFieldBasedFrameDecoder(QueryHandler.TCP_SIZE + 2, 0, 2, 0, 2),
                new LengthFieldPrepender(2),
                new TcpHandler(responder, transfers, counters));
    }

    /**
     * Has each UDP socket of {@code udp} read by a handle of ours ({@link UdpRingHandle} on io_uring,
     * {@link UdpBatchHandle} on epoll) on its own event loop, and
     * with {@code shared} by a second one on the next loop, each through a duplicate of the socket's
     * descriptor ({@code fcntl(F_DUPFD_CLOEXEC)}). Shared, a datagram wakes two threads, as a
     * socket shared by NSD's server processes wakes them all, and the one the scheduler can run at
     * once reads it. With one reader per socket the kernel wakes that reader on the sender's CPU (a
     * synchronous wake-up) and it waits there for the sender to yield, an idle CPU beside it: at
     * 5,000 queries/s p50 went from 44-56 µs to 33-41 µs and p99 from 101-202 µs to 67-95 µs (NSD
     * 44 µs and 83-92 µs in the same run). The cost is the second wake-up: at 5,000 queries/s the
     * loops spend about twice the CPU per query, and saturated they answer about 5% fewer queries
     * per second ({@code bench/README.md}; on io_uring the loop that finds nothing goes back to
     * sleep without leaving the kernel); {@code dns.udp-readers: own} leaves it out.
     */
    private static void readInBatches(List<Channel> udp, UdpAnswers answers, boolean shared, List<UdpReader> readers) {
        for (int i = 0; i < udp.size(); i++) {
            Channel socket = udp.get(i);
            // Each reader its own buffer group on its loop's ring (io_uring): the readers' count so far.
            readers.add(UdpReader.of(socket, socket.eventLoop(), answers, readers.size()));
            if (shared) {
                readers.add(UdpReader.of(socket, udp.get((i + 1) % udp.size()).eventLoop(), answers, readers.size()));
            }
        }
    }

    /**
     * Runs the event loop of each UDP socket in {@code udp} on a CPU of its own, the first ones the
     * process may run on, for {@code dns.cpu-affinity}. Returns the CPU of each socket's loop, or
     * nothing (and every loop where it was) when that cannot be: JNA missing, fewer CPUs than
     * sockets, two sockets on one loop, or a call refused.
     */
    private static int[] pinLoops(List<Channel> udp) {
        int[] allowed = CpuAffinity.current();
        List<EventLoop> loops = udp.stream().map(Channel::eventLoop).toList();
        if (allowed.length < udp.size() || Set.copyOf(loops).size() != loops.size() || udp.size() > DatagramSpread.MAX_STEERED) {
            log.info("dns: event loops not pinned to cpus (cpus allowed: {}, udp sockets: {})", CpuAffinity.describe(allowed), udp.size());
            return new int[0];
        }
        int[] cpus = Arrays.copyOf(allowed, udp.size());
        boolean pinned = true;
        for (int i = 0; i < cpus.length; i++) {
            int cpu = cpus[i];
            pinned &= loops.get(i).submit(() -> CpuAffinity.set(cpu)).syncUninterruptibly().getNow();
        }
        if (!pinned) {
            log.warn("dns: cannot pin the event loops to cpus {}; they run on any of {}", CpuAffinity.describe(cpus),
                    CpuAffinity.describe(allowed));
            loops.forEach(loop -> loop.submit(() -> CpuAffinity.set(allowed)).syncUninterruptibly());
            return new int[0];
        }
        return cpus;
    }

    /**
     * Attaches the program that picks the socket of each datagram ({@link DatagramSpread}): by the
     * CPU delivering it when the loops of the {@code sockets} sockets are pinned to {@code cpus}
     * (one each), else at random. Says how only when {@code tell} (for the first address), or when it fails.
     */
    private static void spread(Channel first, int sockets, int[] cpus, boolean tell) {
        if (cpus.length == sockets && DatagramSpread.attachAcross(first, cpus)) {
            if (tell) {
                log.info("dns: udp event loops on cpus {}; each datagram is read on the cpu after the one delivering it",
                        CpuAffinity.describe(cpus));
            }
        } else if (!DatagramSpread.attach(first, sockets)) {
            log.warn("dns: cannot spread datagrams over the {} udp sockets one by one; the kernel spreads them by client", sockets);
        }
    }

    /** {@code dns.nsid} as the bytes of the EDNS option (RFC 5001): its text, as NSD's {@code ascii_} form. */
    private static byte[] nsid(DnsConfig config) {
        return config.nsid().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String list(List<HostPort> addresses) {
        return String.join(", ", addresses.stream().map(HostPort::toString).toList());
    }

    private static String onOff(boolean on) {
        return on ? "on" : "off";
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

    /**
     * Re-reads the zone files of the config the server runs with; see {@link #reload(DnsConfig)}.
     */
    public ZoneReload reload() {
        synchronized (reloadLock) {
            return reload(config);
        }
    }

    /**
     * Loads the zones of {@code newConfig} and serves them from the next query on, zone by zone:
     *
     * <ul>
     *   <li>a zone whose file has errors is rejected with {@code file:line: reason}, and its old
     *       data (if it was served) stays;
     *   <li>a zone whose data changed while its SOA serial did not increase (RFC 1982 serial
     *       arithmetic) is rejected and the old data stays, as secondaries would not see the change;
     *   <li>a zone with the same serial and the same data is left as it is;
     *   <li>a new zone is added; a zone no longer in the config is no longer served.
     * </ul>
     *
     * {@code dns.health-checks} are applied too: probes of checks no longer configured stop (their
     * names' addresses are all answered again), new ones start, in the same swap as the zones.
     * The swap is atomic: every query is answered from either the old or the new set of zones,
     * none is dropped. {@code dns.listen}, {@code metrics}, {@code udp-readers} and {@code cpu-affinity} cannot change
     * without a restart; a different one is ignored (and said so in the result). Changed {@code dns.transfer-to}, {@code notify},
     * {@code tsig-keys} and {@code rate-limit} apply from the next query on (a new rate limit
     * starts with empty counters), as with {@code nsd-control reconfig}. The secondaries of {@code DnsOptions.notifyTargets} are sent a
     * NOTIFY for each zone added or updated, before this returns. Never throws for a bad zone: the outcome says it, and
     * {@link ZoneReload#orThrow()} turns a rejection into an exception.
     */
    public ZoneReload reload(DnsConfig newConfig) {
        synchronized (reloadLock) {
            ZoneReload.Builder result = new ZoneReload.Builder();
            if (!newConfig.addresses().equals(config.addresses())) {
                result.note("dns.listen " + list(newConfig.addresses()) + " ignored: a new address needs a restart (still "
                        + list(config.addresses()) + ")");
            }
            if (newConfig.udpReaders() != config.udpReaders()) {
                result.note("dns.udp-readers " + newConfig.udpReaders().name().toLowerCase(Locale.ROOT)
                        + " ignored: it changes at the next restart (still " + config.udpReaders().name().toLowerCase(Locale.ROOT) + ")");
            }
            if (newConfig.cpuAffinity() != config.cpuAffinity()) {
                result.note("dns.cpu-affinity " + onOff(newConfig.cpuAffinity()) + " ignored: it changes at the next restart (still "
                        + onOff(config.cpuAffinity()) + ")");
            }
            if (!newConfig.metrics().equals(config.metrics())) {
                result.note("dns.metrics " + newConfig.metrics().map(HostPort::toString).orElse("off")
                        + " ignored: it changes at the next restart (still " + config.metrics().map(HostPort::toString).orElse("off") + ")");
            }
            Map<Name, ZoneData> old = new LinkedHashMap<>();
            zones.forEach(z -> old.put(z.origin(), z));
            List<ZoneData> next = new ArrayList<>();
            Map<Name, byte[]> nextSources = new HashMap<>();
            for (DnsConfig.Zone zone : newConfig.zones()) {
                Name origin = Name.fromConstantString(zone.origin());
                ZoneData before = old.remove(origin);
                ZoneLoader.Source read = ZoneLoader.read(zone.file());
                Optional<byte[]> source = read.digest();
                if (before != null && before.file().equals(zone.file()) && source.isPresent()
                        && Arrays.equals(source.get(), sources.get(origin))) {
                    // The same bytes as served: not parsed again (a 100,000-record file took over a second).
                    result.unchanged(zone.origin(), before.soa().getSerial());
                    next.add(before);
                    nextSources.put(origin, source.get());
                    continue;
                }
                ZoneData loaded;
                try {
                    loaded = ZoneLoader.load(zone, read);
                } catch (RuntimeException e) {
                    result.rejected(zone.origin(), e.getMessage());
                    if (before != null) {
                        next.add(before);
                        keepSource(origin, nextSources);
                    }
                    continue;
                }
                if (before == null) {
                    result.added(zone.origin(), loaded.soa().getSerial());
                    next.add(loaded);
                    source.ifPresent(d -> nextSources.put(origin, d));
                } else if (ZoneHistory.sameRecords(before, loaded)) {
                    result.unchanged(zone.origin(), before.soa().getSerial());
                    next.add(before);
                    source.ifPresent(d -> nextSources.put(origin, d));
                } else if (!serialIncreased(before.soa().getSerial(), loaded.soa().getSerial())) {
                    result.rejected(zone.origin(), loaded.file() + ": serial " + loaded.soa().getSerial()
                            + " did not increase (served: " + before.soa().getSerial() + "); the data changed, so increase it");
                    next.add(before);
                    keepSource(origin, nextSources);
                } else {
                    result.updated(zone.origin(), before.soa().getSerial(), loaded.soa().getSerial());
                    // The difference, for secondaries that ask for IXFR; not where health checks
                    // change the data served between serials (a secondary's copy may be either).
                    next.add(healthChecked(newConfig, origin) ? loaded : loaded.after(before));
                    source.ifPresent(d -> nextSources.put(origin, d));
                }
            }
            old.keySet().forEach(origin -> result.removed(origin.toString()));
            for (ZoneData zone : next) {
                if (!zones.contains(zone)) {
                    ZoneCheck.check(zone).forEach(problem -> log.warn("dns: {}", problem));
                }
            }
            // As nsd-control reconfig: who may transfer, whom to notify with which keys, and the
            // rate limit, from now on.
            DnsOptions options = DnsOptions.from(newConfig);
            if (!newConfig.transferTo().equals(config.transferTo()) || !newConfig.notifyTargets().equals(config.notifyTargets())
                    || !newConfig.tsig().equals(config.tsig())) {
                transfers.use(options.transferClients(), options.transferKeys());
                notifier.use(options.notifyTargets(), options.notifyKeys());
                result.note("dns.transfer-to, notify and tsig-keys applied");
            }
            if (!newConfig.rateLimit().equals(config.rateLimit())) {
                limiter.set(new RateLimiter(options.rateLimit(), System::currentTimeMillis));
                result.note("dns.rate-limit applied: " + describe(options.rateLimit()));
            }
            if (newConfig.tcpConnections() != config.tcpConnections()) {
                connections.limit(newConfig.tcpConnections());
                result.note("dns.tcp-connections applied: " + newConfig.tcpConnections() + " (" + connections.open() + " open now)");
            }
            List<ZoneData> before = zones;
            // The OPT of every answer with EDNS: its UDP size, and the NSID for those that ask.
            boolean sameNsid = newConfig.nsid().equals(config.nsid());
            boolean sameOpt = newConfig.udpPayload() == config.udpPayload() && sameNsid;
            if (!sameNsid) {
                result.note("dns.nsid applied: " + (newConfig.nsid().isEmpty() ? "none" : newConfig.nsid()));
            }
            zones = List.copyOf(next);
            sources = nextSources;
            config = newConfig;
            String probes = watchFrontDoors(newConfig.healthChecks());
            if (!probes.isEmpty()) {
                result.note("dns.health-checks: " + probes);
            }
            // Zones and failing front doors are swapped in together: the old answers serve until
            // this line. Nothing changed, nothing is swapped (nor rendered again).
            if (!zones.equals(before) || !probes.isEmpty() || !sameOpt) {
                publish();
            }
            List<ZoneData> changed = next.stream().filter(z -> !before.contains(z)).toList();
            if (ixfr != null) {
                // The history of each zone served with new data, for the next start.
                changed.forEach(ixfr::save);
            }
            // Secondaries of a zone served with new data transfer it again (RFC 1996).
            changed.forEach(notifier::notifyChanged);
            ZoneReload outcome = result.build();
            log.info("dns: reload: {}", outcome);
            return outcome;
        }
    }

    /** The digest of the file of the zone at {@code origin} as served, kept for the zones served on. */
    private void keepSource(Name origin, Map<Name, byte[]> into) {
        byte[] served = sources.get(origin);
        if (served != null) {
            into.put(origin, served);
        }
    }

    private static String describe(RateLimit limit) {
        return limit.enabled()
                ? limit.responsesPerSecond() + "/s per /" + limit.ipv4PrefixLength() + " slip " + limit.slip()
                : "off";
    }

    /**
     * Renders the answers of {@code unprepared}'s zones on the precompiler's thread and swaps them
     * in, unless other zones have been published meanwhile (a reload, a front door): then it
     * renders nothing, or drops what it rendered.
     */
    private void precompileInBackground(Responder unprepared) {
        precompiler.execute(() -> {
            if (closed.get() || responder.get() != unprepared) {
                return;
            }
            long start = System.nanoTime();
            Responder prepared = new Responder(unprepared.zones(), unprepared.udpPayload(), unprepared.nsid(), true);
            if (!closed.get() && responder.compareAndSet(unprepared, prepared)) {
                log.info("dns: {} answers precompiled in {} ms", prepared.precompiled(), (System.nanoTime() - start) / 1_000_000);
            }
        });
    }

    /**
     * Serves the zones as they are to be answered now (failing front doors left out): at once from
     * the slow path, and from precompiled answers once they are rendered. Rendering them before the
     * swap would hold two sets of answers at a time: a reload of a 100,000-name zone ran out of the
     * DNS tier's 256 MB heap.
     */
    private void publish() {
        synchronized (reloadLock) {
            FrontDoors doors = frontDoors;
            List<ZoneData> served = doors == null ? zones : doors.apply(zones);
            Responder unprepared = new Responder(served, config.udpPayload(), nsid(config), false);
            responder.set(unprepared);
            precompileInBackground(unprepared);
        }
    }

    /**
     * Probes the front doors of {@code checks} from now on (none: stops probing); the caller
     * publishes. The probe thread exists only once a check was configured. Returns what changed,
     * empty when nothing did.
     */
    private String watchFrontDoors(List<DnsConfig.HealthCheck> checks) {
        synchronized (reloadLock) {
            if (frontDoors == null) {
                if (checks.isEmpty() || closed.get()) {
                    return "";
                }
                frontDoors = new FrontDoors(() -> {
                    synchronized (reloadLock) {
                        return zones;
                    }
                }, this::publish);
            }
            return frontDoors.update(checks);
        }
    }

    /** Whether a {@code dns.health-checks} name lies in the zone at {@code origin}. */
    private static boolean healthChecked(DnsConfig config, Name origin) {
        return config.healthChecks().stream().anyMatch(c -> Name.fromConstantString(c.name()).subdomain(origin));
    }

    /** RFC 1982 section 3.2: {@code next} is greater than {@code current} in serial arithmetic. */
    static boolean serialIncreased(long current, long next) {
        long difference = (next - current) & 0xFFFF_FFFFL;
        return difference != 0 && difference < 0x8000_0000L;
    }

    /** Where {@code GET /metrics} is served (the port the system chose for 0), if {@code dns.metrics} is set. */
    Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metrics).map(DnsMetrics::address);
    }

    /** The port UDP and TCP listen on at the first address: the configured one, or the one the system chose for 0. */
    public int port() {
        return port;
    }

    /** The addresses UDP and TCP listen on, as {@code dns.listen} lists them, with the ports the system chose for 0. */
    public List<InetSocketAddress> addresses() {
        return tcp.stream().map(ch -> (InetSocketAddress) ch.localAddress()).toList();
    }

    private static String describe(List<InetSocketAddress> addresses) {
        return String.join(", ", addresses.stream().map(a -> new HostPort(NetUtil.toAddressString(a.getAddress()), a.getPort()).toString()).toList());
    }

    /** What answers the queries now: without precompiled answers until they are rendered (tests). */
    Responder responder() {
        return responder.get();
    }

    /** The TCP connections open, and their bound (tests). */
    TcpConnections tcpConnections() {
        return connections;
    }

    /** The UDP channels, one per socket (tests). */
    List<Channel> udpChannels() {
        return udp;
    }

    /** Who reads the UDP sockets: each socket's own event loop, then with {@code dns.udp-readers: shared} the next one (tests). */
    List<UdpReader> udpReaders() {
        return readers;
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
        FrontDoors doors = frontDoors;
        if (doors != null) {
            doors.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        precompiler.shutdownNow();
        readers.forEach(UdpReader::close);
        udp.forEach(ch -> ch.close().awaitUninterruptibly());
        String addresses = describe(addresses());
        tcp.forEach(ch -> ch.close().awaitUninterruptibly());
        group.shutdownGracefully(100, 5_000, TimeUnit.MILLISECONDS).awaitUninterruptibly();
        log.info("dns: stopped listening on {}", addresses);
    }
}
