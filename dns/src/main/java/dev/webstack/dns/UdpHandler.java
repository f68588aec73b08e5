package dev.webstack.dns;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One datagram in, at most one datagram back to its sender (RFC 1035 section 4.2.1), as a Netty
 * handler: the UDP path where our own handles ({@link UdpRingHandle}, {@link UdpBatchHandle})
 * cannot be used (NIO, or no JNA). Errors never
 * close the channel: the UDP socket is shared by every client.
 *
 * <p>Answers ({@link UdpAnswers}) are written as the datagrams are read and flushed once the socket
 * has no more to read, so that one batch of queries goes out with few system calls (sendmmsg on
 * epoll).
 */
@ChannelHandler.Sharable
final class UdpHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private static final Logger log = LoggerFactory.getLogger(UdpHandler.class);

    private final UdpAnswers answers;

    UdpHandler(UdpAnswers answers) {
        this.answers = answers;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        InetAddress client = packet.sender().getAddress();
        ByteBuf response = answers.answer(packet.content(), answers.limiter().check(client), client, ctx.alloc());
        if (response != null) {
            ctx.write(new DatagramPacket(response, packet.sender()), ctx.voidPromise());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("udp: {}", cause.toString());
    }
}
