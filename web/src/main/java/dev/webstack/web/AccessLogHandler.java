package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One access log line per answered request, in the combined format followed by the request time
 * in seconds (millisecond precision) and the request id, like nginx's
 * {@code $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 * "$http_referer" "$http_user_agent" $request_time $request_id}.
 *
 * <p>A request whose connection closes before the response is complete is logged with status
 * {@value #CLIENT_CLOSED} when no response had started (nginx's "client closed request"). Quoted
 * fields escape {@code "}, {@code \} and non-printable characters as {@code \xHH}, so that a request
 * cannot forge log lines.
 */
final class AccessLogHandler extends ChannelDuplexHandler {
    static final int CLIENT_CLOSED = 499;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US);

    // Switched by a reload, on this channel's event loop.
    private AccessLogWriter writer;
    // One request at a time reaches this handler (PipeliningHandler).
    private Entry current;

    private static final class Entry {
        final long startNanos = System.nanoTime();
        final long startMillis = System.currentTimeMillis();
        String requestLine;
        String referer;
        String userAgent;
        String requestId;
        int status = CLIENT_CLOSED;
        long bytes;
    }

    AccessLogHandler(AccessLogWriter writer) {
        this.writer = writer;
    }

    /** Logs to {@code next} from now on (reload). Call on the channel's event loop. */
    void use(AccessLogWriter next) {
        writer = next;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest req && writer.enabled()) {
            Entry e = new Entry();
            e.requestLine = req.method() + " " + req.uri() + " " + req.protocolVersion();
            e.referer = req.headers().get(HttpHeaderNames.REFERER, "-");
            e.userAgent = req.headers().get(HttpHeaderNames.USER_AGENT, "-");
            e.requestId = req.headers().get(RequestIdHandler.X_REQUEST_ID, "-");
            current = e;
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
            } else if (msg instanceof ByteBuf buf) {
                e.bytes += buf.readableBytes();
            }
            if (msg instanceof LastHttpContent) {
                log(ctx, e);
                current = null;
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            log(ctx, current);
            current = null;
        }
        ctx.fireChannelInactive();
    }

    private void log(ChannelHandlerContext ctx, Entry e) {
        long micros = (System.nanoTime() - e.startNanos) / 1_000;
        String line = clientIp(ctx.channel().remoteAddress()) + " - - [" + localTime(e.startMillis) + "] \""
                + escape(e.requestLine) + "\" " + e.status + " " + e.bytes + " \"" + escape(e.referer) + "\" \""
                + escape(e.userAgent) + "\" " + seconds(micros) + " " + escape(e.requestId);
        writer.append(line);
    }

    /** Seconds with millisecond precision, e.g. {@code 0.004}, rounded to the nearest millisecond. */
    static String seconds(long micros) {
        long ms = (micros + 500) / 1_000;
        long frac = ms % 1_000;
        return ms / 1_000 + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac;
    }

    // The formatted second, per event loop thread: formatting a date per request costs more than the
    // rest of the line.
    private static final ThreadLocal<long[]> LAST_SECOND = ThreadLocal.withInitial(() -> new long[] {Long.MIN_VALUE});
    private static final ThreadLocal<String[]> LAST_TEXT = ThreadLocal.withInitial(() -> new String[1]);

    static String localTime(long millis) {
        long second = Math.floorDiv(millis, 1_000);
        long[] last = LAST_SECOND.get();
        String[] text = LAST_TEXT.get();
        if (last[0] != second) {
            last[0] = second;
            text[0] = TIME.format(ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(second), ZoneId.systemDefault()));
        }
        return text[0];
    }

    static String clientIp(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress()
                : "-";
    }

    static String escape(String s) {
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
                break;
            }
            i++;
        }
        if (i == s.length()) {
            return s; // the usual case: nothing to escape, nothing to copy
        }
        StringBuilder sb = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
                sb.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
