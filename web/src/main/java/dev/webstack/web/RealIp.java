package dev.webstack.web;

import dev.webstack.common.config.AddressRange;
import dev.webstack.common.config.WebConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's address behind trusted proxies ({@code web.real-ip}, nginx's realip module): on a
 * connection from one of {@code from}, the address the proxy gives replaces the connection's peer
 * as the client's — in the access log, for {@code allow}/{@code deny} and {@code limit-requests}.
 * {@code X-Forwarded-For} still gets the connection's peer appended, so that the app sees the
 * whole chain.
 *
 * <ul>
 *   <li>{@code source: x-forwarded-for}: per request ({@link ForwardedFor}, after
 *       {@link PipeliningHandler}, so that it is the request being answered whose address counts),
 *       the header read from its end: the first address that is not a trusted proxy's is the
 *       client, as nginx's {@code real_ip_recursive on}; an entry that is not an IP address ends the
 *       walk at the address before it. From an untrusted peer the header is not looked at.</li>
 *   <li>{@code source: proxy-protocol}: every connection starts with a PROXY protocol header, v1 or
 *       v2 (Netty's {@link HAProxyMessageDecoder}, first in the pipeline, before TLS); its source
 *       address is the client's when the peer is trusted. A connection without one is closed.</li>
 * </ul>
 * The address is kept in a channel attribute ({@link #of}); an HTTP/2 stream looks at its own, then
 * at its connection's.
 */
final class RealIp {
    private static final Logger log = LoggerFactory.getLogger(RealIp.class);
    private static final AttributeKey<Client> CLIENT = AttributeKey.valueOf("webstack.realIp");

    /** A client's address as a trusted proxy gave it, and as the access log writes it. */
    record Client(InetAddress address, String text) {
        static Client of(InetAddress address) {
            return new Client(address, address.getHostAddress());
        }
    }

    private final List<AddressRange> trusted;
    private final WebConfig.Source source;

    RealIp(WebConfig.RealIp config) {
        this.trusted = config.from();
        this.source = config.source();
    }

    WebConfig.Source source() {
        return source;
    }

    /** The client behind {@code ch} (a connection or an HTTP/2 stream) as a trusted proxy said; null when none did. */
    static Client of(Channel ch) {
        if (ch.hasAttr(CLIENT)) {
            Client c = ch.attr(CLIENT).get();
            if (c != null) {
                return c;
            }
        }
        Channel connection = ch instanceof Http2StreamChannel ? ch.parent() : null;
        return connection != null && connection.hasAttr(CLIENT) ? connection.attr(CLIENT).get() : null;
    }

    /** The client's address: what a trusted proxy said, else the peer's; null for a channel without one. */
    static InetAddress address(Channel ch) {
        Client real = of(ch);
        if (real != null) {
            return real.address();
        }
        return ch.remoteAddress() instanceof InetSocketAddress peer ? peer.getAddress() : null;
    }

    /** Drops what a proxy said on {@code ch} (the handler that says it is being removed by a reload). */
    static void forget(Channel ch) {
        if (ch.hasAttr(CLIENT)) {
            ch.attr(CLIENT).set(null);
        }
    }

    /** Whether {@code ch}'s own peer is a trusted proxy. */
    private boolean trustsPeer(Channel ch) {
        return ch.remoteAddress() instanceof InetSocketAddress peer && peer.getAddress() != null && trusts(peer.getAddress());
    }

    boolean trusts(InetAddress address) {
        return AddressRange.anyContains(trusted, address);
    }

    /** The client {@code forwardedFor} names behind {@code peer} (trusted), read from the end; null when it names none. */
    Client fromForwardedFor(List<String> forwardedFor) {
        InetAddress client = null;
        for (int h = forwardedFor.size() - 1; h >= 0; h--) {
            String[] hops = forwardedFor.get(h).split(",");
            for (int i = hops.length - 1; i >= 0; i--) {
                InetAddress hop = AddressRange.literal(hops[i].strip());
                if (hop == null) {
                    return client == null ? null : Client.of(client);
                }
                client = hop;
                if (!trusts(hop)) {
                    return Client.of(hop);
                }
            }
        }
        return client == null ? null : Client.of(client);
    }

    /** Per request, with {@code source: x-forwarded-for}: the client the header names, when the peer is trusted. */
    @ChannelHandler.Sharable
    static final class ForwardedFor extends ChannelInboundHandlerAdapter {
        private final RealIp realIp;

        ForwardedFor(RealIp realIp) {
            this.realIp = realIp;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest req) {
                Channel ch = ctx.channel();
                Client client = null;
                if (realIp.trustsPeer(ch)) {
                    List<String> header = req.headers().getAll(ProxyHeaders.X_FORWARDED_FOR);
                    client = header.isEmpty() ? null : realIp.fromForwardedFor(header);
                }
                if (client != null || ch.hasAttr(CLIENT)) {
                    ch.attr(CLIENT).set(client);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * First on a connection, with {@code source: proxy-protocol}: the PROXY header's source, when
     * the peer is trusted. A header not complete within {@code timeout} (the header timeout of
     * {@code web.header-timeout}, as nginx's {@code proxy_protocol_timeout}) closes the connection.
     */
    static final class ProxyProtocol extends ChannelInboundHandlerAdapter {
        private final RealIp realIp;
        private final Duration timeout;
        private final ConnectionsPerClient perClient; // null: no per-client connection limit
        private ScheduledFuture<?> deadline;

        ProxyProtocol(RealIp realIp, Duration timeout, ConnectionsPerClient perClient) {
            this.realIp = realIp;
            this.timeout = timeout;
            this.perClient = perClient;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            deadline = ctx.executor().schedule(() -> {
                log.debug("client {}: no complete PROXY protocol header within {}", ctx.channel().remoteAddress(), timeout);
                ctx.close();
            }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage header)) {
                ctx.fireChannelRead(msg);
                return;
            }
            InetAddress source = null;
            try {
                if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null && realIp.trustsPeer(ctx.channel())) {
                    source = AddressRange.literal(header.sourceAddress());
                    if (source != null) {
                        ctx.channel().attr(CLIENT).set(Client.of(source));
                    }
                }
            } finally {
                ReferenceCountUtil.release(header);
                ctx.pipeline().remove(this);
            }
            // web.max-connections-per-client counts the client the header names (the peer when it names none).
            if (perClient != null && !perClient.admit(ctx.channel(), source)) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException) {
                log.debug("client {}: no PROXY protocol header: {}", ctx.channel().remoteAddress(), cause.getMessage());
                ctx.close();
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }
    }
}
