package dev.webstack.web;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The handlers of a client connection, in the order a request meets them:
 * <pre>
 * codec      HTTP/1.1 bytes ⇄ messages (limits below)
 * idle       IdleStateEvent after web.idleTimeout() without traffic
 * aggregate  a request and its body as one FullHttpRequest (limit below; 413 beyond)
 * pipelining one request at a time, in order; keep-alive; idle close; drain
 * requestId  X-Request-Id in, out and in the log
 * accessLog  one line per request
 * bad        400 / 414 / 431 / 505 for what the codec could not read
 * health     GET /-/health → 200 ok, for any Host
 * vhost      www is served, the apex is redirected, other names are 421
 * static     files of the public folder
 * proxy      everything else, to the app servers
 * </pre>
 */
final class ClientPipeline extends ChannelInitializer<Channel> {
    /** Longest request line; longer is answered 414. */
    static final int MAX_REQUEST_LINE = 8 * 1024;
    /** Largest header section; larger is answered 431. */
    static final int MAX_HEADER_SIZE = 16 * 1024;
    /** Largest request body; larger is answered 413. */
    static final int MAX_BODY = 10 * 1024 * 1024;

    private final ChannelGroup clients;
    private final Duration idleTimeout;
    private final AccessLogWriter accessLog;
    private final BadRequestHandler bad = new BadRequestHandler();
    private final HealthHandler health = new HealthHandler();
    private final VirtualHostHandler vhost;
    private final StaticFileHandler files;
    private final ProxyHandler.Upstreams upstreams;
    private final UpstreamPool pool;
    private final Duration readTimeout;

    ClientPipeline(ChannelGroup clients, Duration idleTimeout, AccessLogWriter accessLog, VirtualHosts hosts,
                   StaticFileHandler files, ProxyHandler.Upstreams upstreams, UpstreamPool pool, Duration readTimeout) {
        this.clients = clients;
        this.idleTimeout = idleTimeout;
        this.accessLog = accessLog;
        this.vhost = new VirtualHostHandler(hosts);
        this.files = files;
        this.upstreams = upstreams;
        this.pool = pool;
        this.readTimeout = readTimeout;
    }

    @Override
    protected void initChannel(Channel ch) {
        clients.add(ch);
        HttpDecoderConfig limits = new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_REQUEST_LINE)
                .setMaxHeaderSize(MAX_HEADER_SIZE);
        ch.pipeline()
                .addLast("codec", new HttpServerCodec(limits))
                .addLast("idle", new IdleStateHandler(true, 0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS))
                .addLast("aggregate", new HttpObjectAggregator(MAX_BODY))
                .addLast("pipelining", new PipeliningHandler())
                .addLast("requestId", new RequestIdHandler())
                .addLast("accessLog", new AccessLogHandler(accessLog))
                .addLast("bad", bad)
                .addLast("health", health)
                .addLast("vhost", vhost)
                .addLast("static", files)
                .addLast("proxy", new ProxyHandler(upstreams, pool, readTimeout));
    }
}
