package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to the app servers, pooled per event loop: a connection is only ever used
 * by client connections of the event loop it is registered on, so that a proxied exchange runs on
 * one thread from end to end and the pool needs no locks.
 *
 * <ul>
 *   <li>At most {@code web.upstream-keepalive} (default 64) idle connections per upstream and event
 *       loop, as nginx's {@code keepalive} counts per worker; a connection released beyond that is
 *       closed. Set below the requests one event loop proxies at once, it has connections closed
 *       and opened again all the time under load (one event loop, 64 clients, 32 kept: 0.73x
 *       nginx's proxy in {@code bench/web}, against 1.03x with 64).</li>
 *   <li>An idle connection is closed after {@value #IDLE_SECONDS} s, below the usual keep-alive
 *       timeout of app servers, so that this side closes first. An idle connection keeps reading,
 *       so that the app server closing it, or sending anything unasked, removes it from the pool.</li>
 *   <li>Connect timeout: {@code web.connectTimeout()} (default 2 s).</li>
 * </ul>
 */
final class UpstreamPool {
    static final int IDLE_SECONDS = 20;
    private static final AttributeKey<HostPort> TARGET = AttributeKey.valueOf("webstack.upstream");

    private final Transport transport;
    private final Duration connectTimeout;
    private final int keepalive;
    private final Map<EventLoop, Map<HostPort, ArrayDeque<Channel>>> idle = new ConcurrentHashMap<>();

    /** @param keepalive idle connections kept per upstream and event loop ({@code web.upstream-keepalive}) */
    UpstreamPool(Transport transport, Duration connectTimeout, int keepalive) {
        this.transport = transport;
        this.connectTimeout = connectTimeout;
        this.keepalive = keepalive;
    }

    /** An idle connection to {@code target} on {@code loop}, if there is one. Call on {@code loop}. */
    Channel pollIdle(EventLoop loop, HostPort target) {
        ArrayDeque<Channel> deque = deque(loop, target);
        Channel ch;
        while ((ch = deque.pollLast()) != null) {
            if (ch.isActive()) {
                return ch;
            }
            ch.close();
        }
        return null;
    }

    /** A new connection to {@code target} registered on {@code loop}, reads driven by the caller. */
    ChannelFuture connect(EventLoop loop, HostPort target) {
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, connectTimeout.toMillis()))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true);
        transport.applySocketOptions(bootstrap::option);
        return bootstrap
                .attr(TARGET, target)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast("codec", new HttpClientCodec())
                                // Reads alone: a pooled connection's last traffic is its last answer
                                // (read), so this is its idle time, without the listener and clock read
                                // that watching writes adds to every request sent on it.
                                .addLast("idle", new IdleStateHandler(IDLE_SECONDS, 0, 0, TimeUnit.SECONDS))
                                .addLast("upstream", new UpstreamHandler());
                        ch.closeFuture().addListener(f -> deque(loop, target).remove(ch));
                    }
                })
                .connect(target.toSocketAddress());
    }

    /** Returns a connection whose last exchange completed cleanly. Call on its event loop. */
    void release(Channel ch) {
        HostPort target = ch.attr(TARGET).get();
        ArrayDeque<Channel> deque = deque(ch.eventLoop(), target);
        if (!ch.isActive() || deque.size() >= keepalive) {
            ch.close();
            return;
        }
        deque.addLast(ch);
        ch.read();
    }

    /**
     * Closes the idle connections to {@code target} on every event loop, each on its own loop (a
     * drained or removed member). Connections serving a request are not touched.
     */
    void closeIdle(HostPort target) {
        idle.forEach((loop, byTarget) -> loop.execute(() -> {
            ArrayDeque<Channel> deque = byTarget.remove(target);
            if (deque != null) {
                // A copy: closing removes the channel from the deque (closeFuture listener).
                for (Channel ch : deque.toArray(Channel[]::new)) {
                    ch.close();
                }
            }
        }));
    }

    private ArrayDeque<Channel> deque(EventLoop loop, HostPort target) {
        return idle.computeIfAbsent(loop, l -> new HashMap<>()).computeIfAbsent(target, t -> new ArrayDeque<>());
    }
}
