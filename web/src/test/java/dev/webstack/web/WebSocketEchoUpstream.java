package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;

/**
 * A real WebSocket app server for proxy tests (Netty's {@link WebSocketServerProtocolHandler} on
 * port 0): {@code /ws} accepts the handshake, sends a {@code welcome} text frame and then echoes every
 * data frame as it came (close frames are answered and the connection closed, by Netty). Any other
 * request is answered 404 with a body telling what its {@code Upgrade} and {@code Connection}
 * headers were, e.g. {@code upgrade=websocket connection=upgrade}.
 */
final class WebSocketEchoUpstream implements AutoCloseable {
    /** Largest frame payload accepted; the tests send up to a few MB. */
    static final int MAX_FRAME = 8 * 1024 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel server;

    WebSocketEchoUpstream() throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/ws")
                                        .maxFramePayloadLength(MAX_FRAME)
                                        .build()))
                                .addLast(new Echo());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    private static final class Echo extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof WebSocketFrame frame) {
                ctx.writeAndFlush(frame.retain());
            } else if (msg instanceof FullHttpRequest req) {
                String seen = "upgrade=" + req.headers().get(HttpHeaderNames.UPGRADE)
                        + " connection=" + req.headers().get(HttpHeaderNames.CONNECTION);
                FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                        Unpooled.copiedBuffer(seen, StandardCharsets.UTF_8));
                res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
                ctx.writeAndFlush(res);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                ctx.writeAndFlush(new TextWebSocketFrame("welcome"));
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    HostPort address() {
        return new HostPort("127.0.0.1", ((java.net.InetSocketAddress) server.localAddress()).getPort());
    }

    /** Kills every connection at once, as a crashed app server would, and stops listening. */
    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        connections.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
