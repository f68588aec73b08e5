package dev.webstack.web;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks: every {@link BalancerSettings#healthInterval()} (default 1 s) each member
 * gets {@code GET /-/ready} on a connection of its own ({@code Connection: close}, so a check also
 * proves that a new connection opens). A 2xx within {@link BalancerSettings#healthTimeout()}
 * (default 1 s) passes; anything else fails. {@code rise} passes in a row bring a member up
 * ({@code riseNew} for one added through the admin API), {@code fall} failures take it down. At most
 * one check per member runs at a time.
 *
 * <p>Checks are Netty channels on the web tier's event loops: they only wait on the network, never
 * block a loop, and cost one small connection per member and interval.
 */
final class HealthChecker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);
    private static final int MAX_ANSWER = 8 * 1024;

    private final EventLoopGroup loops;
    private final Transport transport;
    private final UpstreamGroup group;
    private ScheduledFuture<?> ticks;

    HealthChecker(EventLoopGroup loops, Transport transport, UpstreamGroup group) {
        this.loops = loops;
        this.transport = transport;
        this.group = group;
    }

    synchronized void start() {
        BalancerSettings settings = group.settings();
        if (settings.healthChecks()) {
            long every = settings.healthInterval().toMillis();
            ticks = loops.next().scheduleWithFixedDelay(this::checkAll, every, every, TimeUnit.MILLISECONDS);
        }
    }

    private void checkAll() {
        for (Member m : group.members()) {
            check(m);
        }
    }

    /** Checks a member now (unless a check of it is running), e.g. one just added. */
    void check(Member m) {
        BalancerSettings settings = group.settings();
        if (!settings.healthChecks() || !m.checking.compareAndSet(false, true)) {
            return;
        }
        AtomicBoolean reported = new AtomicBoolean();
        int rise = m.health() == Member.Health.STARTING ? settings.riseNew() : settings.rise();
        Runnable[] report = new Runnable[2];
        report[0] = () -> result(m, true, rise, settings.fall(), reported);
        report[1] = () -> result(m, false, rise, settings.fall(), reported);
        EventLoop loop = loops.next();
        ChannelFuture connect = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, settings.healthTimeout().toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast(new HttpClientCodec())
                                .addLast(new HttpObjectAggregator(MAX_ANSWER))
                                .addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
                                        (res.status().code() / 100 == 2 ? report[0] : report[1]).run();
                                        ctx.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        report[1].run();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        report[1].run();
                                        ctx.close();
                                    }
                                });
                    }
                })
                .connect(m.address.toSocketAddress());
        Channel ch = connect.channel();
        loop.schedule(() -> {
            report[1].run();
            ch.close();
        }, settings.healthTimeout().toMillis(), TimeUnit.MILLISECONDS);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                report[1].run();
                return;
            }
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, BalancerSettings.HEALTH_PATH);
            req.headers().set(HttpHeaderNames.HOST, m.address.toString())
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                    .set(HttpHeaderNames.USER_AGENT, "webstack-health");
            ch.writeAndFlush(req);
        });
    }

    private void result(Member m, boolean ok, int rise, int fall, AtomicBoolean reported) {
        if (!reported.compareAndSet(false, true)) {
            return;
        }
        Member.Health before = m.health();
        m.checked(ok, rise, fall, System.nanoTime());
        m.checking.set(false);
        Member.Health after = m.health();
        if (before != after) {
            log.info("upstream {} ({}): {} -> {} (health check {})", m.name, m.address,
                    before.name().toLowerCase(), after.name().toLowerCase(), ok ? "passed" : "failed");
        }
    }

    /** Checks at the group's interval as it is now (a reload changed it), or stops checking when it is 0. */
    synchronized void restart() {
        close();
        start();
    }

    @Override
    public synchronized void close() {
        if (ticks != null) {
            ticks.cancel(false);
            ticks = null;
        }
    }
}
