package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.stream.ChunkedInput;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One access log line per answered request, in the combined format followed by the request time
 * in seconds (millisecond precision) and the request id, like nginx's
 * {@code $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 * "$http_referer" "$http_user_agent" $request_time $request_id}.
 * The time is when the line is written, at the end of the answer, as nginx's {@code $time_local};
 * read from the clock of the thread's {@link LogLine}, not once per line.
 *
 * <p>A request whose connection closes before the response is complete is logged with status
 * {@value #CLIENT_CLOSED} when no response had started (nginx's "client closed request"). Quoted
 * fields escape as {@link LogLine#quoted(CharSequence)} says, so that a request cannot forge log
 * lines. The line is formatted as bytes on the event loop and written by {@link AccessLogWriter}.
 * Every request's final status is also counted ({@link RequestCounters}, for {@code /metrics}),
 * with the log on or off.
 */
final class AccessLogHandler extends ChannelDuplexHandler {
    static final int CLIENT_CLOSED = 499;
    private static final byte[] NO_USER = " - - [".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BEFORE_USER = " - ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] AFTER_USER = " [".getBytes(StandardCharsets.US_ASCII);

    // Switched by a reload, on this channel's event loop.
    private AccessLogWriter writer;
    private final RequestCounters counters;
    // One request at a time reaches this handler (PipeliningHandler): the one being answered, or
    // null; always the same object, filled again for each request.
    private Entry current;
    private final Entry entry = new Entry();
    // The client's address, formatted on the first line of the connection.
    private String clientIp;

    private static final class Entry {
        long startNanos;
        HttpMethod method;
        String uri;
        HttpVersion version;
        String referer;
        String userAgent;
        String requestId;
        String user; // the Basic user name the request gave, if any (nginx's $remote_user)
        int status;
        long bytes;
        boolean logged; // the fields above were read: the log was on when the request came
    }

    AccessLogHandler(AccessLogWriter writer, RequestCounters counters) {
        this.writer = writer;
        this.counters = counters;
    }

    /** Logs to {@code next} from now on (reload). Call on the channel's event loop. */
    void use(AccessLogWriter next) {
        writer = next;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest req) {
            Entry e = entry;
            e.status = CLIENT_CLOSED;
            e.bytes = 0;
            current = e;
            e.logged = writer.enabled();
            if (!e.logged) {
                ctx.fireChannelRead(msg);
                return;
            }
            e.startNanos = System.nanoTime();
            e.method = req.method();
            e.uri = req.uri();
            e.version = req.protocolVersion();
            e.referer = req.headers().get(HttpHeaderNames.REFERER);
            e.userAgent = req.headers().get(HttpHeaderNames.USER_AGENT);
            e.requestId = req.headers().get(RequestIdHandler.X_REQUEST_ID);
            e.user = BasicAuth.user(req.headers().get(HttpHeaderNames.AUTHORIZATION));
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        Entry e = current;
        if (e != null) {
            if (msg instanceof HttpResponse res) {
                e.status = res.status().code();
                e.bytes = 0;
            }
            if (msg instanceof ByteBufHolder holder) {
                e.bytes += holder.content().readableBytes();
            } else if (msg instanceof FileRegion region) {
                e.bytes += region.count();
            } else if (msg instanceof ChunkedInput<?> input) {
                e.bytes += Math.max(0, input.length()); // a file sent over TLS
            } else if (msg instanceof ByteBuf buf) {
                e.bytes += buf.readableBytes();
            }
            if (msg instanceof LastHttpContent) {
                end(ctx, e);
                current = null;
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            end(ctx, current);
            current = null;
        }
        ctx.fireChannelInactive();
    }

    /** The request is answered, or its client gone: counted, and logged if the log was on for it and still is. */
    private void end(ChannelHandlerContext ctx, Entry e) {
        counters.count(e.status);
        if (e.logged && writer.enabled()) {
            log(ctx, e);
        }
    }

    private void log(ChannelHandlerContext ctx, Entry e) {
        if (clientIp == null) {
            clientIp = clientIp(ctx.channel().remoteAddress());
        }
        RealIp.Client real = RealIp.of(ctx.channel()); // the client a trusted proxy named (web.real-ip), if any
        long now = System.nanoTime();
        long micros = (now - e.startNanos) / 1_000;
        LogLine line = writer.line().ascii(real == null ? clientIp : real.text());
        if (e.user == null) {
            line.raw(NO_USER);
        } else {
            line.raw(BEFORE_USER).quoted(e.user).raw(AFTER_USER);
        }
        line.localTime(now).raw(']').raw(' ').raw('"')
                .quoted(e.method.name()).raw(' ').quoted(e.uri).raw(' ').quoted(e.version.text()).raw('"').raw(' ')
                .number(e.status).raw(' ').number(e.bytes).raw(' ')
                .raw('"').quoted(e.referer).raw('"').raw(' ')
                .raw('"').quoted(e.userAgent).raw('"').raw(' ')
                .seconds(micros).raw(' ').quoted(e.requestId);
        writer.append(line);
    }

    static String clientIp(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress()
                : "-";
    }
}
