package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The handlers of a client connection, in the order a request meets them:
 * <pre>
 * tls        HTTPS connections only: TLS (SslHandler), its errors (plain HTTP: 400, like nginx), ALPN; then
 *            HTTP/1.1 as below, with files written in buffers (ChunkedWriteHandler) and, after the codec,
 *            Strict-Transport-Security (web.tls.hsts); or HTTP/2 ({@link #addHttp2}): each stream gets
 *            the handlers from pipelining on, behind a frame converter
 * guard      strict framing on the raw bytes; a malformed request stops the connection (RequestFramingGuard)
 * codec      HTTP/1.1 bytes ⇄ messages (limits below)
 * idle       IdleStateEvent after web.idleTimeout() without traffic
 * body       a request with a small body as one FullHttpRequest; a large or chunked body streams (BodyGate)
 * pipelining one request at a time, in order; keep-alive; idle close; drain
 * requestId  X-Request-Id in, out and in the log
 * accessLog  one line per request
 * bad        400 / 414 / 431 / 505 for what the codec could not read
 * health     GET /-/health → 200 ok, for any Host
 * vhost      www is served, the apex is redirected, other names are 421
 * locations  web.locations: files, redirects, fixed answers (LocationHandler)
 * proxy      proxy locations and what no location matches, to the app servers
 * </pre>
 */
final class ClientPipeline extends ChannelInitializer<Channel> {
    /**
     * The codec's own bounds on a request line and a header section: the largest the config allows.
     * The limits set in {@code webstack.yml} ({@link WebConfig.Limits#maxRequestLine()},
     * {@link WebConfig.Limits#maxHeaderSize()}) are enforced before the codec, by {@link RequestFramingGuard},
     * which takes a reload's from the next request on; the codec of an open connection must not
     * refuse what a reload has since allowed.
     */
    private static final int CODEC_BOUND = WebConfig.Limits.MAX_HEADER_BYTES;
    /** Most HTTP/2 streams open at once on a connection (nginx's {@code http2_max_concurrent_streams}). */
    static final int MAX_STREAMS = 128;
    /** Set on a connection accepted while {@code web.real-ip.source} was {@code proxy-protocol}. */
    private static final AttributeKey<Boolean> BEGAN_WITH_PROXY_PROTOCOL = AttributeKey.valueOf("webstack.beganWithProxyProtocol");
    /** Largest request body by default; larger is answered 413 (see {@link WebConfig.Limits}). */
    static final int MAX_BODY = WebConfig.Limits.MAX_BODY;

    /**
     * What a reload may change, swapped as a whole: new connections take the current one, open ones
     * switch to it between two requests (see {@link #apply}). {@code tls} is the context of the
     * connections accepted on the HTTPS address (a reload reads the certificate again), null when
     * HTTPS is off; an open HTTPS connection keeps the session it has. {@code limits} apply to new
     * connections, and to open ones from their next request on (a connection already counted stays
     * open when the connection limits go down).
     */
    record Settings(Duration idleTimeout, AccessLogWriter accessLog, VirtualHostHandler vhost, LocationHandler locations,
                    UpstreamGroup upstreams, UpstreamPool pool, Duration readTimeout, Tls.Server tls, ErrorPages errorPages,
                    RealIp realIp, WebConfig.Limits limits) {
        /** The same settings, logging to {@code log} (the access log reopened). */
        Settings withAccessLog(AccessLogWriter log) {
            return new Settings(idleTimeout, log, vhost, locations, upstreams, pool, readTimeout, tls, errorPages, realIp, limits);
        }

        /** Who says the client's address per request ({@code real-ip} from X-Forwarded-For); null for nobody. */
        ChannelHandler forwardedFor() {
            return realIp != null && realIp.source() == WebConfig.Source.X_FORWARDED_FOR ? new RealIp.ForwardedFor(realIp) : null;
        }

        /** Whether every connection starts with a PROXY protocol header ({@code real-ip} from it). */
        boolean proxyProtocol() {
            return realIp != null && realIp.source() == WebConfig.Source.PROXY_PROTOCOL;
        }
    }

    private final ChannelGroup clients;
    private final BadRequestHandler bad = new BadRequestHandler();
    private final HealthHandler health = new HealthHandler();
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder accepted = new LongAdder();
    private final RequestCounters requests = new RequestCounters();
    private final ConnectionsPerClient perClient;
    private volatile Settings current;

    ClientPipeline(ChannelGroup clients, Duration idleTimeout, AccessLogWriter accessLog, VirtualHosts hosts,
                   LocationHandler locations, UpstreamGroup upstreams, UpstreamPool pool, Duration readTimeout) {
        this(clients, new Settings(idleTimeout, accessLog, new VirtualHostHandler(hosts), locations, upstreams, pool, readTimeout, null,
                        ErrorPages.NONE, null, WebConfig.Limits.DEFAULTS));
    }

    ClientPipeline(ChannelGroup clients, Settings settings) {
        this.clients = clients;
        this.current = settings;
        this.perClient = new ConnectionsPerClient(settings.limits().maxConnectionsPerClient());
    }

    /** Client connections open now (those refused by {@code max-connections} never count). */
    int open() {
        return open.get();
    }

    /** Client connections accepted since the start, refused ones included. */
    long accepted() {
        return accepted.sum();
    }

    /** Requests answered since the start, by status class. */
    RequestCounters requests() {
        return requests;
    }

    Settings settings() {
        return current;
    }

    /**
     * Makes {@code next} the settings of new connections, and of every open one from its next
     * request on: each connection switches on its own event loop, between two messages, so the
     * request it is answering finishes as it started. Returns one future per connection, done
     * when it switched.
     */
    List<Future<?>> apply(Settings next) {
        Settings previous = current;
        current = next;
        perClient.limit(next.limits().maxConnectionsPerClient());
        List<Future<?>> switched = new ArrayList<>();
        for (Channel ch : clients) {
            switched.add(ch.eventLoop().submit(() -> switchTo(ch, previous, next)));
        }
        return switched;
    }

    private static void switchTo(Channel ch, Settings previous, Settings next) {
        ChannelPipeline p = ch.pipeline();
        if (!ch.isActive() || p.get("proxy") == null) {
            return;
        }
        if (next.vhost() != previous.vhost()) {
            p.replace("vhost", "vhost", next.vhost());
        }
        if (!next.limits().equals(previous.limits())) {
            RequestFramingGuard guard = p.get(RequestFramingGuard.class);
            if (guard != null) {
                guard.use(next.limits());
            }
            PipeliningHandler pipelining = p.get(PipeliningHandler.class);
            if (pipelining != null) {
                pipelining.use(next.limits());
            }
        }
        if (next.locations() != previous.locations()) {
            p.replace("locations", "locations", next.locations());
        }
        if (next.errorPages() != previous.errorPages()) {
            p.replace("errorPages", "errorPages", next.errorPages());
        }
        // The PROXY protocol is for a whole connection: one that began with it keeps the client its
        // header named, one that began without it keeps its way when a reload turns it on.
        if (next.realIp() != previous.realIp() && !ch.hasAttr(BEGAN_WITH_PROXY_PROTOCOL) && !next.proxyProtocol()) {
            ChannelHandler forwardedFor = next.forwardedFor();
            if (p.get("realIp") != null) {
                p.remove("realIp");
                RealIp.forget(ch);
            }
            if (forwardedFor != null) {
                p.addAfter("pipelining", "realIp", forwardedFor);
            }
        }
        if (!next.idleTimeout().equals(previous.idleTimeout())) {
            p.replace("idle", "idle", idle(next));
        }
        p.get(AccessLogHandler.class).use(next.accessLog());
        p.get(ProxyHandler.class).use(next.upstreams(), next.pool(), next.readTimeout());
    }

    private static IdleStateHandler idle(Settings s) {
        return new IdleStateHandler(true, 0, 0, s.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void initChannel(Channel ch) {
        Settings s = current;
        accepted.increment();
        if (open.incrementAndGet() > s.limits().maxConnections()) {
            open.decrementAndGet();
            ch.close();
            return;
        }
        ch.closeFuture().addListener(f -> open.decrementAndGet());
        // Behind the PROXY protocol the client is known once its header is read: counted then.
        if (!s.proxyProtocol() && !perClient.admit(ch, null)) {
            ch.close();
            return;
        }
        // Added before the settings are read: a reload from now on reaches this connection too.
        clients.add(ch);
        if (s.proxyProtocol()) {
            ch.attr(BEGAN_WITH_PROXY_PROTOCOL).set(Boolean.TRUE);
            // The PROXY header comes before anything else, TLS included.
            ch.pipeline().addLast("proxyProtocol", new HAProxyMessageDecoder())
                    .addLast("realIpHeader", new RealIp.ProxyProtocol(s.realIp(), s.limits().headerTimeout(), perClient));
        }
        if (!Tls.isSecure(ch)) {
            addHttp1(ch, s);
            return;
        }
        if (s.tls() == null) {
            // Accepted on the HTTPS socket while a reload that turns HTTPS off closes it: never served in plain.
            ch.close();
            return;
        }
        // The handshake reads before any HTTP handler is there; ALPN then picks HTTP/2 or HTTP/1.1.
        ch.config().setAutoRead(true);
        ch.pipeline()
                .addLast("plainHttp", new Tls.PlainHttpDetector())
                .addLast("tls", s.tls().newHandler(ch))
                .addLast("tlsErrors", Tls.Errors.INSTANCE)
                .addLast("alpn", new Tls.Negotiation(this));
    }

    /** The HTTP/1.1 handlers (over TLS, after the handshake, with the file chunker and HSTS). */
    void addHttp1(Channel ch) {
        addHttp1(ch, current);
    }

    private void addHttp1(Channel ch, Settings s) {
        boolean secure = Tls.isSecure(ch);
        if (secure) {
            ch.pipeline().addLast("chunked", new ChunkedWriteHandler());
        }
        HttpDecoderConfig codecLimits = new HttpDecoderConfig()
                .setMaxInitialLineLength(CODEC_BOUND)
                .setMaxHeaderSize(CODEC_BOUND);
        ch.pipeline()
                .addLast("guard", new RequestFramingGuard(s.limits()))
                .addLast("codec", new ServerCodec(codecLimits))
                .addLast("idle", idle(s))
                .addLast("body", new BodyGate());
        addRequestHandlers(ch.pipeline(), s);
        if (secure) {
            addHsts(ch.pipeline(), "codec", s);
        }
    }

    /** Strict-Transport-Security (web.tls.hsts) on the answers, right after the codec named {@code codec}. */
    private static void addHsts(ChannelPipeline p, String codec, Settings s) {
        if (s.tls() != null && s.tls().hsts() != null) {
            p.addAfter(codec, "hsts", s.tls().hsts());
        }
    }

    /** From one request on, the same handlers for an HTTP/1.1 connection and for an HTTP/2 stream. */
    private void addRequestHandlers(ChannelPipeline p, Settings s) {
        p.addLast("pipelining", new PipeliningHandler(s.limits()));
        ChannelHandler forwardedFor = s.forwardedFor();
        if (forwardedFor != null) {
            p.addLast("realIp", forwardedFor);
        }
        p.addLast("requestId", new RequestIdHandler())
                .addLast("accessLog", new AccessLogHandler(s.accessLog(), requests))
                .addLast("errorPages", s.errorPages())
                .addLast("bad", bad)
                .addLast("health", health)
                .addLast("vhost", s.vhost())
                .addLast("locations", s.locations())
                .addLast("proxy", new ProxyHandler(s.upstreams(), s.pool(), s.readTimeout()));
    }

    /**
     * HTTP/2 (after ALPN chose it): Netty's frame codec and stream multiplexer on the connection;
     * each stream becomes a child channel with the HTTP/1.1 request handlers behind a converter
     * ({@link #initStream}). Up to {@value #MAX_STREAMS} streams at once (nginx's default); the
     * header list as large as HTTP/1.1's header section; the connection closes when idle, after its
     * {@code web.keepalive-requests}th stream or {@code web.keepalive-time} (the value when it was
     * accepted), and on a graceful stop: two GOAWAYs, the open streams finish, then a lingering
     * close ({@link Http2Shutdown}).
     */
    void addHttp2(Channel ch) {
        Settings s = current;
        ch.pipeline()
                .addLast("h2linger", new Http2Shutdown.Linger(() -> current.limits()))
                .addLast("h2", Http2FrameCodecBuilder.forServer()
                        .initialSettings(Http2Settings.defaultSettings()
                                .maxConcurrentStreams(MAX_STREAMS)
                                .maxHeaderListSize(s.limits().maxHeaderSize()))
                        .gracefulShutdownTimeoutMillis(WebServer.DRAIN_SECONDS * 1_000L)
                        .build())
                .addLast("idle", idle(s))
                .addLast("h2streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                    // This connection's streams so far, on its event loop (one initializer per connection).
                    private int streams;
                    private boolean goingAway;

                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                        initStream(stream);
                        int most = current.limits().keepaliveRequests();
                        if (most > 0 && ++streams >= most && !goingAway) {
                            goingAway = true;
                            // The last stream it takes (web.keepalive-requests): GOAWAY now, as on a
                            // graceful stop; this stream and the others open finish.
                            stream.parent().pipeline().fireUserEventTriggered(PipeliningHandler.Drain.INSTANCE);
                        }
                    }
                }))
                .addLast("h2goaway", new Http2Shutdown.GoAway());
        // web.keepalive-time, as the connection starts: GOAWAY then, the open streams finish.
        long time = s.limits().keepaliveTime().toNanos();
        if (time > 0) {
            ScheduledFuture<?> goAway = ch.eventLoop().schedule(
                    () -> ch.pipeline().fireUserEventTriggered(PipeliningHandler.Drain.INSTANCE), time, TimeUnit.NANOSECONDS);
            ch.closeFuture().addListener(f -> goAway.cancel(false));
        }
    }

    /** One HTTP/2 stream: frames ⇄ HTTP/1.1 messages, then the request handlers, with the settings of the moment. */
    private void initStream(Http2StreamChannel stream) {
        Settings s = current;
        ChannelPipeline p = stream.pipeline()
                .addLast("h2codec", new Http2StreamFrameToHttpObjectCodec(true))
                .addLast("chunked", new ChunkedWriteHandler())
                .addLast("h2request", new Http2Request(s.limits()))
                .addLast("body", new BodyGate());
        addRequestHandlers(p, s);
        addHsts(p, "h2codec", s);
    }
}
