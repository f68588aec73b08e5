package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The datagrams of one client socket, which the kernel's hash gives to one socket, are spread over all. */
class DatagramSpreadTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void oneClientsDatagramsReachEverySocketOfTheGroup() throws Exception {
        Assumptions.assumeTrue(Epoll.isAvailable(), "SO_REUSEPORT groups need epoll (Linux)");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        AtomicIntegerArray received = new AtomicIntegerArray(2);
        List<Channel> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                int index = i;
                Bootstrap b = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                        .option(EpollChannelOption.SO_REUSEPORT, true)
                        .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                                received.incrementAndGet(index);
                            }
                        });
                int port = sockets.isEmpty() ? 0 : ((InetSocketAddress) sockets.get(0).localAddress()).getPort();
                sockets.add(b.bind(LOOPBACK, port).sync().channel());
            }
            InetSocketAddress target = (InetSocketAddress) sockets.get(0).localAddress();
            try (DatagramSocket client = new DatagramSocket(0, LOOPBACK)) {
                send(client, target, 100);
                awaitTotal(received, 100);
                assertThat(Math.max(received.get(0), received.get(1))).as("by the kernel's hash, one client reaches one socket")
                        .isEqualTo(100);

                assertThat(DatagramSpread.attach(sockets.get(1), 2)).as("program attached").isTrue();
                send(client, target, 400);
                awaitTotal(received, 500);
                assertThat(Math.min(received.get(0), received.get(1))).as("spread: " + received).isGreaterThan(100);
            }
        } finally {
            sockets.forEach(ch -> ch.close().awaitUninterruptibly());
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private static void send(DatagramSocket client, InetSocketAddress target, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            client.send(new java.net.DatagramPacket(new byte[] {(byte) i}, 1, target));
        }
    }

    /** Waits (bounded, about 5 s) until {@code total} datagrams arrived in all. */
    private static void awaitTotal(AtomicIntegerArray received, int total) throws InterruptedException {
        for (int i = 0; i < 100 && received.get(0) + received.get(1) < total; i++) {
            Thread.sleep(50);
        }
        assertThat(received.get(0) + received.get(1)).as("datagrams received").isEqualTo(total);
    }
}
