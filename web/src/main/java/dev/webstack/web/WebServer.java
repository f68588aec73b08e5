package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web tier of www.foobar.com, in the role nginx plays in a one-server stack: it answers each
 * request as its location in {@code web.locations} says (static files from the codebase's public
 * folder, redirects, fixed answers) and reverse-proxies every other request to the app servers. See {@link ClientPipeline} for the handlers a request passes.
 *
 * <p>Limits, with their defaults (the ones from {@link WebConfig} are set in webstack.yml):
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>limit</th><th>default</th><th>beyond it</th></tr>
 *   <tr><td>request line</td><td>{@link WebConfig.Limits#maxRequestLine()}, {@value WebConfig.Limits#MAX_REQUEST_LINE} bytes</td><td>414, close (RFC 9112 section 3)</td></tr>
 *   <tr><td>request headers (HTTP/2: header list)</td><td>{@link WebConfig.Limits#maxHeaderSize()}, {@value WebConfig.Limits#MAX_HEADER_SIZE} bytes</td><td>431, close (RFC 6585 section 5)</td></tr>
 *   <tr><td>request header fields</td><td>{@link WebConfig.Limits#maxHeaders()}, {@value WebConfig.Limits#MAX_HEADERS}</td><td>431, close</td></tr>
 *   <tr><td>request body</td><td>{@link WebConfig.Limits#maxBody()}, {@value WebConfig.Limits#MAX_BODY} bytes</td><td>413, close (RFC 9110 section 15.5.14)</td></tr>
 *   <tr><td>time to receive the request headers</td><td>{@link WebConfig.Limits#headerTimeout()}, 10 s</td><td>408, close (slowloris)</td></tr>
 *   <tr><td>client connections</td><td>{@link WebConfig.Limits#maxConnections()}, {@value WebConfig.Limits#MAX_CONNECTIONS}</td><td>closed on accept</td></tr>
 *   <tr><td>client connections from one address (IPv6: /64)</td><td>{@link WebConfig.Limits#maxConnectionsPerClient()}, none</td><td>closed on accept</td></tr>
 *   <tr><td>lingering close: reading what a client still sends after the answer that closes its
 *       connection (a refused request, a body not read)</td><td>{@link WebConfig.Limits#lingeringTime()} 30 s,
 *       {@link WebConfig.Limits#lingeringTimeout()} 5 s without a byte</td><td>connection closed ({@link LingeringClose})</td></tr>
 *   <tr><td>client keep-alive idle</td><td>{@code web.idleTimeout()}, 60 s</td><td>connection closed</td></tr>
 *   <tr><td>upstream connect</td><td>{@code web.connectTimeout()}, 2 s</td><td>504 (a refused connect: 502)</td></tr>
 *   <tr><td>upstream response</td><td>{@code web.readTimeout()}, 30 s</td><td>504</td></tr>
 *   <tr><td>idle upstream connections</td><td>{@code web.upstreamKeepalive()}, 64, per app server and event loop,
 *       {@value UpstreamPool#IDLE_SECONDS} s</td><td>closed</td></tr>
 *   <tr><td>health checks</td><td>{@code GET /-/ready} every {@link BalancerSettings#healthInterval()}, 1 s, timeout 1 s,
 *       rise 2 (1 for a member added by the admin API), fall 2</td><td>member down / up</td></tr>
 *   <tr><td>passive ejection</td><td>{@link BalancerSettings#passiveFails()}, 3 failures in a row within 10 s</td><td>member down
 *       until health checks pass</td></tr>
 *   <tr><td>retries</td><td>one per other member; idempotent methods, or any method that could not connect</td><td>502</td></tr>
 *   <tr><td>graceful stop</td><td>{@value #DRAIN_SECONDS} s for in-flight requests</td><td>connections closed</td></tr>
 *   <tr><td>access log</td><td>a {@value AccessLogWriter#BUFFER_SIZE}-byte buffer per event loop, flushed every
 *       {@value AccessLogWriter#FLUSH_INTERVAL_MS} ms; {@value AccessLogWriter#QUEUE_CAPACITY} full buffers
 *       waiting</td><td>lines dropped and counted</td></tr>
 * </table>
 */
public final class WebServer implements AutoCloseable {
    /** How long {@link #close()} lets in-flight requests finish. */
    static final int DRAIN_SECONDS = 10;
    private static final Logger log = LoggerFactory.getLogger(WebServer.class);

    private final EventLoopGroup group;
    /** What binds the listening sockets: at start, and again when a reload moves an address. */
    private final ServerBootstrap bootstrap;
    // Replaced by a reload that moves the address (guarded by this; volatile for port() and tlsPort()).
    private volatile Channel serverChannel;
    /** The HTTPS address's channel; null without {@code web.tls}. */
    private volatile Channel tlsChannel;
    private final ChannelGroup clients;
    private final Transport transport;
    private final ClientPipeline pipeline;
    private final UpstreamGroup upstreams;
    private final HealthChecker checker;
    // Replaced by a reload that moves web.admin (guarded by this).
    private volatile AdminApi admin;
    private final WebMetrics metrics;
    private final AtomicBoolean closed = new AtomicBoolean();
    // Guarded by this: reload() and close() run one at a time.
    private WebConfig web;
    private SiteConfig site;

    private WebServer(EventLoopGroup group, ServerBootstrap bootstrap, Channel serverChannel, Channel tlsChannel, ChannelGroup clients,
                      Transport transport, ClientPipeline pipeline, UpstreamGroup upstreams, HealthChecker checker, AdminApi admin,
                      WebMetrics metrics, WebConfig web, SiteConfig site) {
        this.upstreams = upstreams;
        this.metrics = metrics;
        this.checker = checker;
        this.admin = admin;
        this.group = group;
        this.bootstrap = bootstrap;
        this.serverChannel = serverChannel;
        this.tlsChannel = tlsChannel;
        this.clients = clients;
        this.transport = transport;
        this.pipeline = pipeline;
        this.web = web;
        this.site = site;
    }

    /**
     * Starts listening on {@code web.listen()}, with the limits and load balancing of {@code web},
     * and returns once the port is bound.
     *
     * @throws IllegalStateException when the address cannot be bound
     * @throws UncheckedIOException  when the access log cannot be opened
     */
    public static WebServer start(WebConfig web, SiteConfig site) {
        return start(web, site, web.limits(), BalancerSettings.from(web.balancing()));
    }

    /**
     * Starts with limits other than the defaults (see {@link WebConfig.Limits}).
     *
     * @throws IllegalStateException when the address cannot be bound
     * @throws UncheckedIOException  when the access log cannot be opened
     */
    public static WebServer start(WebConfig web, SiteConfig site, WebConfig.Limits limits) {
        return start(web, site, limits, BalancerSettings.defaults());
    }

    /**
     * Starts with limits and load balancing other than the defaults. The app servers of
     * {@code web.upstreams()} are the members {@code app-1}, {@code app-2}, ... in list order (the
     * names the admin API and {@code ./webstack servers} use); the admin API listens on
     * {@code web.admin()}.
     *
     * @throws IllegalStateException    when the address, the HTTPS address or the admin address cannot be bound
     * @throws IllegalArgumentException when {@code web.tls}'s certificate and key cannot be read
     * @throws UncheckedIOException     when the access log cannot be opened, or a self-signed certificate written
     */
    public static WebServer start(WebConfig web, SiteConfig site, WebConfig.Limits limits, BalancerSettings balancing) {
        // Read (or made) before anything is started: a certificate that cannot be read stops nothing.
        Tls.Server tls = web.tls().map(t -> Tls.server(t, site)).orElse(null);
        Transport transport = Transport.best();
        AccessLogWriter accessLog = AccessLogWriter.open(web.accessLog(), web.accessLogFormat());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(), new DefaultThreadFactory("web"), transport.ioHandlerFactory());
        ChannelGroup clients = new DefaultChannelGroup("web-clients", GlobalEventExecutor.INSTANCE);
        UpstreamGroup upstreams = new UpstreamGroup(web.upstreams(), balancing);
        LocationHandler locations = locations(web);
        ClientPipeline pipeline = new ClientPipeline(
                clients,
                new ClientPipeline.Settings(
                        web.idleTimeout(),
                        accessLog,
                        vhost(site, locations, web),
                        locations,
                        upstreams,
                        new UpstreamPool(transport, web.connectTimeout(), web.upstreamKeepalive()),
                        web.readTimeout(),
                        tls,
                        ErrorPages.of(web.errorPages(), web.publicRoot()),
                        web.realIp().map(RealIp::new).orElse(null),
                        limits));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(pipeline);
        transport.applySocketOptions(bootstrap::childOption);
        // What is started so far; stopped again if a later step fails, so that nothing is left half up.
        List<Channel> listening = new ArrayList<>();
        Channel serverChannel;
        Channel tlsChannel = null;
        // The pool of the moment: a reload may replace it.
        upstreams.onRetire(address -> pipeline.settings().pool().closeIdle(address));
        HealthChecker checker = new HealthChecker(group, transport, upstreams);
        AdminApi admin = null;
        WebMetrics metrics = new WebMetrics(pipeline, upstreams);
        try {
            // The admin API first: once the site answers (the supervisor's health check), so does it.
            admin = AdminApi.start(web.admin(), upstreams, checker, metrics);
            serverChannel = bind(bootstrap, web.listen(), "");
            listening.add(serverChannel);
            if (tls != null) {
                tlsChannel = bindTls(bootstrap, web.tls().orElseThrow().listen());
                listening.add(tlsChannel);
            }
        } catch (IllegalStateException e) {
            if (admin != null) {
                admin.close();
            }
            metrics.close();
            for (Channel ch : listening) {
                ch.close().awaitUninterruptibly();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            accessLog.close();
            throw e;
        }
        checker.start();
        WebServer server = new WebServer(group, bootstrap, serverChannel, tlsChannel, clients, transport, pipeline, upstreams, checker,
                admin, metrics, web, site);
        log.info("web: listening on {} ({}), www={} apex={}, public folder {}, upstreams {} ({}), admin API on {}",
                bound(server.serverChannel), transport.name(), site.www(), site.domain(),
                web.publicRoot(), web.upstreams().isEmpty() ? "none (502)" : upstreams.members(),
                balancing.algorithm().name().toLowerCase(java.util.Locale.ROOT), text(admin.address()));
        if (tlsChannel != null) {
            WebConfig.Tls t = web.tls().orElseThrow();
            log.info("web: HTTPS on {} ({}, TLS 1.3 and 1.2, HTTP/2 and HTTP/1.1), certificate {}{}{}", bound(tlsChannel), Tls.provider(),
                    t.certificate(), t.selfSigned() ? " (self-signed)" : "", t.verifyClient() == WebConfig.VerifyClient.OFF ? ""
                            : ", client certificates " + t.verifyClient().name().toLowerCase(java.util.Locale.ROOT) + " (CA " + t.clientCa().orElseThrow() + ")");
            for (WebConfig.SniCertificate c : t.sni()) {
                log.info("web: HTTPS for {}: certificate {}", String.join(", ", c.names()), c.certificate());
            }
        }
        logLocations(locations);
        return server;
    }

    /**
     * Opens the access log file again, as {@code nginx -s reopen} does (SIGUSR1 to the web tier,
     * {@code ./webstack reopen}), for log rotation: once the file has been moved away, the lines of
     * requests answered from now on go to a new file at the configured path; the lines before go to
     * the moved one, which the old writer closes once they are written. Nothing to do when the log
     * is off.
     *
     * @return the file reopened, or empty when the log is off
     * @throws UncheckedIOException when the file cannot be opened again (the old one stays in use)
     */
    public synchronized Optional<Path> reopenLogs() {
        if (closed.get()) {
            throw new IllegalStateException("web: reopen after close");
        }
        if (web.accessLog().isEmpty()) {
            return Optional.empty();
        }
        ClientPipeline.Settings now = pipeline.settings();
        switchTo(now.withAccessLog(AccessLogWriter.open(web.accessLog(), web.accessLogFormat())));
        // Every connection logs to the new writer now: the old one writes what it holds and closes.
        now.accessLog().close();
        return web.accessLog();
    }

    /**
     * Has new connections take {@code settings}, and every open one switch to them; returns when
     * they all have (a task on each one's event loop, run between two messages), so that a request
     * sent after it meets them and the lines of requests still logging to an old access log file
     * are written before that file closes. Returns how many open connections switched.
     */
    private int switchTo(ClientPipeline.Settings settings) {
        List<io.netty.util.concurrent.Future<?>> switched = pipeline.apply(settings);
        for (io.netty.util.concurrent.Future<?> f : switched) {
            f.awaitUninterruptibly(DRAIN_SECONDS * 1_000L);
        }
        return switched.size();
    }

    /**
     * Applies a changed web config (and site names) without dropping a connection or a request,
     * like nginx's reload: new connections take the new config at once, open connections from
     * their next request on; a request being answered finishes with the config it started with.
     * Parts that did not change keep their state (the file cache, pooled upstream connections,
     * the access log file). The caller validates the config first (as {@code webstack.yml} loading
     * does); what cannot change without a restart is refused and nothing is applied.
     *
     * <p>A moved address ({@code web.listen}, {@code web.tls.listen}, HTTPS turned on or off,
     * {@code web.admin}) is bound before anything is applied, and the old listening socket closed
     * after: connections accepted on it stay open and finish as any other, as with nginx's reload.
     * An address that is taken (by another process, or by another listener of this tier: a swap)
     * is refused.
     * Turning the PROXY protocol on or off ({@code web.real-ip.source}) applies to connections
     * accepted from then on; open ones go on as they started.
     *
     * @throws IllegalArgumentException when a moved address cannot be bound, or {@code web.tls}'s certificate and key cannot be
     *                                  read (nothing applied)
     * @throws UncheckedIOException     when a new access log file cannot be opened (nothing applied)
     */
    public synchronized void reload(WebConfig next, SiteConfig nextSite) {
        if (closed.get()) {
            throw new IllegalStateException("web: reload after close");
        }
        // The certificate is read again, as nginx's reload does: a renewed one is served to new connections.
        Tls.Server tls = next.tls().map(t -> Tls.server(t, nextSite)).orElse(null);
        ClientPipeline.Settings now = pipeline.settings();
        // A new format gets a new writer too (on the same file: the old one writes what it holds, then closes).
        AccessLogWriter accessLog = next.accessLog().equals(web.accessLog()) && next.accessLogFormat().equals(web.accessLogFormat())
                ? now.accessLog() : AccessLogWriter.open(next.accessLog(), next.accessLogFormat());
        // Built first, then the moved addresses bound: what fails here leaves the running config untouched.
        boolean sameLocations = next.locations().equals(web.locations()) && next.mimeTypes().equals(web.mimeTypes());
        ClientPipeline.Settings settings;
        Listeners listeners;
        try {
            // Unchanged locations keep their handler, and with it the files held in memory.
            LocationHandler locations = sameLocations ? now.locations() : locations(next, now.locations());
            VirtualHostHandler vhost = nextSite.equals(site) && sameLocations && next.tls().equals(web.tls())
                    ? now.vhost() : vhost(nextSite, locations, next);
            UpstreamPool pool = next.connectTimeout().equals(web.connectTimeout()) && next.upstreamKeepalive() == web.upstreamKeepalive()
                    ? now.pool() : new UpstreamPool(transport, next.connectTimeout(), next.upstreamKeepalive());
            ErrorPages errorPages = next.errorPages().equals(web.errorPages()) && next.publicRoot().equals(web.publicRoot())
                    ? now.errorPages() : ErrorPages.of(next.errorPages(), next.publicRoot());
            RealIp realIp = next.realIp().equals(web.realIp()) ? now.realIp() : next.realIp().map(RealIp::new).orElse(null);
            // The config's limits when they changed (a server started with other limits keeps them otherwise).
            WebConfig.Limits limits = next.limits().equals(web.limits()) ? now.limits() : next.limits();
            settings = new ClientPipeline.Settings(next.idleTimeout(), accessLog, vhost, locations, upstreams, pool, next.readTimeout(),
                    tls, errorPages, realIp, limits);
            listeners = bindMoved(next);
        } catch (RuntimeException e) {
            if (accessLog != now.accessLog()) {
                accessLog.close();
            }
            throw e;
        }
        // One group for the server's life: members whose name and address stay keep their state.
        if (!next.upstreams().equals(web.upstreams())) {
            upstreams.reconfigure(web.upstreams(), next.upstreams());
        }
        // The config's balancing when it changed (a server started with other settings keeps them otherwise).
        if (!next.balancing().equals(web.balancing())) {
            upstreams.use(BalancerSettings.from(next.balancing()));
            checker.restart();
        }
        int switched = switchTo(settings);
        if (accessLog != now.accessLog()) {
            now.accessLog().close();
        }
        closeMoved(listeners, next);
        web = next;
        site = nextSite;
        log.info("web: reloaded: {} open connections switched, listening on {}{}, www={} apex={}, public folder {}, upstreams {}",
                switched, bound(serverChannel), tlsChannel == null ? "" : " and " + bound(tlsChannel) + " (HTTPS)",
                nextSite.www(), nextSite.domain(), next.publicRoot(),
                next.upstreams().isEmpty() ? "none (502)" : next.upstreams());
        if (!sameLocations) {
            logLocations(settings.locations());
        }
    }

    /** The listening sockets a reload ends with: the running ones, or new ones bound for moved addresses. */
    private record Listeners(Channel http, Channel https, AdminApi admin) {}

    /**
     * Binds the addresses {@code next} moves (the running sockets are kept for the others).
     *
     * @throws IllegalArgumentException when one cannot be bound; whatever this call bound is closed again
     */
    private Listeners bindMoved(WebConfig next) {
        Channel http = serverChannel;
        Channel https = tlsChannel;
        AdminApi api = admin;
        List<Channel> bound = new ArrayList<>();
        try {
            if (!next.listen().equals(web.listen())) {
                http = bind(bootstrap, next.listen(), "");
                bound.add(http);
            }
            Optional<HostPort> tlsNext = next.tls().map(WebConfig.Tls::listen);
            if (!tlsNext.equals(web.tls().map(WebConfig.Tls::listen))) {
                https = tlsNext.isPresent() ? bindTls(bootstrap, tlsNext.get()) : null;
                if (https != null) {
                    bound.add(https);
                }
            }
            if (!next.admin().equals(web.admin())) {
                api = AdminApi.start(next.admin(), upstreams, checker, metrics);
            }
        } catch (IllegalStateException e) {
            for (Channel ch : bound) {
                ch.close().awaitUninterruptibly();
            }
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return new Listeners(http, https, api);
    }

    /** Makes {@code now} the listening sockets, closing those it replaced (their accepted connections stay open). */
    private void closeMoved(Listeners now, WebConfig next) {
        if (now.http() != serverChannel) {
            log.info("web: listening on {}; {} closed", bound(now.http()), bound(serverChannel));
            serverChannel.close().awaitUninterruptibly();
            serverChannel = now.http();
        }
        if (now.https() != tlsChannel) {
            if (now.https() != null) {
                log.info("web: HTTPS on {}", bound(now.https()));
            }
            if (tlsChannel != null) {
                log.info("web: HTTPS on {} closed", bound(tlsChannel));
                tlsChannel.close().awaitUninterruptibly();
            }
            tlsChannel = now.https();
        }
        if (now.admin() != admin) {
            log.info("web: admin API on {}; {} closed", text(now.admin().address()), text(admin.address()));
            admin.close();
            admin = now.admin();
        }
        if (proxyProtocol(next) != proxyProtocol(web)) {
            log.info("web: the PROXY protocol is {} for connections accepted from now on", proxyProtocol(next) ? "on" : "off");
        }
    }

    private static boolean proxyProtocol(WebConfig web) {
        return web.realIp().map(r -> r.source() == WebConfig.Source.PROXY_PROTOCOL).orElse(false);
    }

    /** The HTTPS listening socket for {@code address}: its connections carry {@link Tls#SECURE}. */
    private static Channel bindTls(ServerBootstrap bootstrap, HostPort address) {
        return bind(bootstrap.clone().childAttr(Tls.SECURE, Boolean.TRUE), address, " (web.tls.listen)");
    }

    /**
     * The listening socket for {@code address} ({@code what} says which, for the message).
     *
     * @throws IllegalStateException when it cannot be bound
     */
    private static Channel bind(ServerBootstrap bootstrap, HostPort address, String what) {
        ChannelFuture bound = bootstrap.bind(address.toSocketAddress()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            throw new IllegalStateException("web: cannot listen on " + address + what + ": " + whyNotBound(cause), cause);
        }
        return bound.channel();
    }

    /** The locations of {@code web}, compiled. */
    /**
     * Checks {@code web} as the tier would load it, without binding or writing anything (what
     * {@code nginx -t} is to nginx): the locations compiled, their htpasswd files read, the
     * certificates, keys and client CA of HTTPS read and matched. Returns one line per thing
     * checked, for {@code webstack web check}.
     *
     * @throws IllegalArgumentException with the file and the reason, at the first thing that does not load
     */
    public static List<String> check(WebConfig web, SiteConfig site) {
        List<String> out = new ArrayList<>();
        out.add("listen " + web.listen() + ", admin " + web.admin() + ", public folder " + web.publicRoot());
        for (Location l : locations(web).locations().all()) {
            out.add(l.toString());
        }
        new java.util.TreeMap<>(web.errorPages()).forEach((status, page) -> out.add("error page " + status + ": " + page));
        web.realIp().ifPresent(r -> out.add("client addresses from " + r.source().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
                + " of " + r.from()));
        web.tls().ifPresent(t -> {
            if (t.selfSigned() && !SelfSignedCertificate.validFor(t.certificate(), java.time.Duration.ZERO)) {
                out.add("https on " + t.listen() + ": a self-signed certificate is made at start, " + t.certificate());
            } else {
                Tls.server(t, site); // reads and matches every certificate and key, and the client CA
                out.add("https on " + t.listen() + ": certificate " + t.certificate() + " and its key"
                        + t.ocspResponse().map(o -> ", OCSP response " + o + " (good)").orElse(""));
            }
            for (WebConfig.SniCertificate c : t.sni()) {
                out.add("https for " + String.join(", ", c.names()) + ": certificate " + c.certificate() + " and its key"
                        + c.ocspResponse().map(o -> ", OCSP response " + o + " (good)").orElse(""));
            }
            t.clientCa().ifPresent(ca -> out.add("client certificates " + t.verifyClient().name().toLowerCase(java.util.Locale.ROOT)
                    + ", CA " + ca));
        });
        return out;
    }

    private static LocationHandler locations(WebConfig web) {
        return locations(web, null);
    }

    /** The locations of {@code web}, those of {@code previous} (the running ones, or null) handing on their client state. */
    private static LocationHandler locations(WebConfig web, LocationHandler previous) {
        return new LocationHandler(new Locations(web.locations(), new MimeTypes(web.mimeTypes()),
                previous == null ? null : previous.locations()));
    }

    /** The site's names, the names that have locations of their own, and where plain HTTP is sent (web.tls.redirect-http). */
    private static VirtualHostHandler vhost(SiteConfig site, LocationHandler locations, WebConfig web) {
        int httpsPort = web.tls().filter(WebConfig.Tls::redirectHttp).map(t -> t.listen().port()).orElse(-1);
        return new VirtualHostHandler(new VirtualHosts(site, locations.locations().hosts(), httpsPort));
    }

    /** One line per location, in file order, like {@code web: location ~ ^/posts/[0-9]+$ -> proxy app}. */
    private static void logLocations(LocationHandler locations) {
        for (Location l : locations.locations().all()) {
            log.info("web: {}", l);
        }
    }

    /** The admin API's bound port (useful when {@code web.admin()} asked for port 0). */
    public int adminPort() {
        return admin.port();
    }

    /** The upstream group, for tests in this package. */
    UpstreamGroup upstreams() {
        return upstreams;
    }

    /** Why a listening socket could not be bound, in words: the JDK's and the native transports' errno texts say it differently. */
    static String whyNotBound(Throwable cause) {
        String text = cause == null ? "" : String.valueOf(cause.getMessage());
        return text.contains("Address already in use") ? "the address is in use"
                : text.contains("Cannot assign requested address") ? "the address is not one of this machine's"
                : cause instanceof BindException ? "the address is in use or not local" : String.valueOf(cause);
    }

    /** {@code 127.0.0.1:8080}: where {@code ch} listens, for the log. */
    private static String bound(Channel ch) {
        return text((InetSocketAddress) ch.localAddress());
    }

    /** {@code 127.0.0.1:8080}, without the {@code /} of {@link InetSocketAddress#toString()}. */
    static String text(InetSocketAddress a) {
        return new HostPort(a.getAddress().getHostAddress(), a.getPort()).toString();
    }

    /** The bound port (useful when {@code web.listen()} asked for port 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Client connections open now (HTTP and HTTPS). */
    int connections() {
        return clients.size();
    }

    /** The bound HTTPS port, or -1 without {@code web.tls}. */
    public int tlsPort() {
        return tlsChannel == null ? -1 : ((InetSocketAddress) tlsChannel.localAddress()).getPort();
    }

    /** The socket transport the tier runs on: {@code io_uring}, {@code epoll} or {@code nio}. */
    public String transport() {
        return transport.name();
    }

    /**
     * Stops gracefully: stops accepting, lets each connection finish the response it is writing
     * (at most {@value #DRAIN_SECONDS} s), closes them and writes out the access log.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        admin.close();
        metrics.close();
        checker.close();
        serverChannel.close().awaitUninterruptibly();
        if (tlsChannel != null) {
            tlsChannel.close().awaitUninterruptibly();
        }
        for (Channel ch : clients) {
            ch.pipeline().fireUserEventTriggered(PipeliningHandler.Drain.INSTANCE);
        }
        if (!clients.newCloseFuture().awaitUninterruptibly(Duration.ofSeconds(DRAIN_SECONDS).toMillis())) {
            log.warn("web: {} connections still busy after {} s, closing them", clients.size(), DRAIN_SECONDS);
            clients.close().awaitUninterruptibly(1_000);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        synchronized (this) {
            pipeline.settings().accessLog().close();
        }
        log.info("web: stopped");
    }
}
