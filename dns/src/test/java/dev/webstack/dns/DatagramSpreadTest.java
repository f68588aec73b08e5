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
        withGroup((sockets, received) -> {
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
        });
    }

    @Test
    void datagramsGoToTheSocketAfterTheDeliveringCpusOneElseAnywhere() throws Exception {
        Assumptions.assumeTrue(Epoll.isAvailable(), "SO_REUSEPORT groups need epoll (Linux)");
        int[] allowed = CpuAffinity.current();
        Assumptions.assumeTrue(allowed.length >= 2, "two cpus this thread may run on, and JNA");
        int[] before = allowed;
        withGroup((sockets, received) -> {
            InetSocketAddress target = (InetSocketAddress) sockets.get(0).localAddress();
            // Socket 0 is read on allowed[0]; socket 1 on a CPU no thread here runs on.
            assertThat(DatagramSpread.attachAcross(sockets.get(1), new int[] {allowed[0], Integer.MAX_VALUE})).isTrue();
            try (DatagramSocket client = new DatagramSocket(0, LOOPBACK)) {
                // On loopback the sender's CPU delivers the datagram: from allowed[0], socket 1 gets them all.
                assertThat(CpuAffinity.set(allowed[0])).isTrue();
                send(client, target, 100);
                awaitTotal(received, 100);
                assertThat(received.get(1)).as("from cpu " + allowed[0] + ": " + received).isEqualTo(100);
                // From a CPU not in the list, anywhere.
                assertThat(CpuAffinity.set(allowed[1])).isTrue();
                send(client, target, 400);
                awaitTotal(received, 500);
                assertThat(received.get(0)).as("from cpu " + allowed[1] + ", at random: " + received).isGreaterThan(100);
                assertThat(received.get(1)).as("from cpu " + allowed[1] + ", at random: " + received).isGreaterThan(200);
            } finally {
                CpuAffinity.set(before);
            }
        });
    }

    /** A group of two {@code SO_REUSEPORT} sockets, each counting the datagrams it receives. */
    private static void withGroup(GroupTest test) throws Exception {
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
            test.run(sockets, received);
        } finally {
            sockets.forEach(ch -> ch.close().awaitUninterruptibly());
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private interface GroupTest {
        void run(List<Channel> sockets, AtomicIntegerArray received) throws Exception;
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
