package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.stream.ChunkedInput;
import io.netty.util.AsciiString;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One access log line per answered request, in the format of {@code web.access-log-format}
 * ({@link LogFormat}); by default nginx's combined format followed by the request time in seconds
 * (millisecond precision) and the request id, like nginx's
 * {@code $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 * "$http_referer" "$http_user_agent" $request_time $request_id}.
 * The time is when the line is written, at the end of the answer, as nginx's {@code $time_local};
 * read from the clock of the thread's {@link LogLine}, not once per line.
 *
 * <p>A request whose connection closes before the response is complete is logged with status
 * {@value #CLIENT_CLOSED} when no response had started (nginx's "client closed request"). Values
 * from the request are escaped as the format's escape says ({@link LogLine#quoted(CharSequence)}
 * by default), so that a request cannot forge log lines. The headers the format reads are
 * collected as the request comes in and as its answer goes out; the line is formatted as bytes on
 * the event loop and written by {@link AccessLogWriter}.
 * Every request's final status is also counted ({@link RequestCounters}, for {@code /metrics}),
 * with the log on or off.
 *
 * <p>{@code $request_length} and {@code $bytes_sent} are counted only for a format that writes them.
 * Over HTTP/1.x they are the bytes on the wire, as {@link ServerCodec} counts them (the request's
 * line, headers and body; the answer's headers, body and chunk framing, before TLS). Over HTTP/2,
 * where HPACK compresses the headers, they are what the request and the answer take in HTTP/1.1
 * form ({@link #http1Size}).
 */
final class AccessLogHandler extends ChannelDuplexHandler {
    static final int CLIENT_CLOSED = 499;

    // Switched by a reload, on this channel's event loop.
    private AccessLogWriter writer;
    private final RequestCounters counters;
    // One request at a time reaches this handler (PipeliningHandler): the one being answered, or
    // null; always the same object, filled again for each request.
    private LogFormat.Logged current;
    private final LogFormat.Logged entry = new LogFormat.Logged();
    // The client's address, formatted on the first line of the connection; whether it is HTTPS.
    private String clientIp;
    private boolean tls;
    // The TCP connection's number and request count: this channel's, or an HTTP/2 stream's parent's.
    private Connection connection;
    // The connection's HTTP/1.x codec, which counts the bytes of the answers (null: HTTP/2), once looked up.
    private ServerCodec codec;
    private boolean codecLooked;
    // For $request_length and $bytes_sent: the codec's request being answered, whose count is final
    // once its body is read; where the codec's count of answer bytes stood when the answer began (-1:
    // no answer yet, or not counted); an HTTP/2 answer's header size; the bytes the codec does not
    // see (a file sent over TLS in chunks).
    private ServerCodec.WireRequest wire;
    private long sentBefore;
    private long sentHeaders;
    private long sentOutside;

    /**
     * A TCP connection as nginx's {@code $connection} and {@code $connection_requests} see it: a
     * serial number, given when its first request arrives, and the requests it has carried (an
     * HTTP/2 connection's streams all count). Kept on the connection's channel; its streams run on
     * the same event loop, so the count needs no lock.
     */
    static final class Connection {
        private static final AttributeKey<Connection> KEY = AttributeKey.valueOf(Connection.class, "connection");
        private static final AtomicLong SERIALS = new AtomicLong();

        final long serial = SERIALS.incrementAndGet();
        long requests;

        static Connection of(Channel ch) {
            Channel tcp = ch instanceof Http2StreamChannel stream ? stream.parent() : ch;
            Attribute<Connection> kept = tcp.attr(KEY);
            Connection c = kept.get();
            if (c == null) {
                c = new Connection();
                kept.set(c);
            }
            return c;
        }
    }

    AccessLogHandler(AccessLogWriter writer, RequestCounters counters) {
        this.writer = writer;
        this.counters = counters;
    }

    /**
     * Where the proxy records the app servers the request being read now goes to, when the log's
     * format writes them; null otherwise (nothing to record).
     */
    LogFormat.UpstreamTrace upstreamTrace() {
        LogFormat.Logged e = current;
        return e != null && e.format != null && e.format.readsUpstream() ? e.upstream : null;
    }

    /** Logs to {@code next} from now on (reload). Call on the channel's event loop. */
    void use(AccessLogWriter next) {
        writer = next;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest req) {
            LogFormat.Logged e = entry;
            e.status = CLIENT_CLOSED;
            e.bytes = 0;
            current = e;
            if (connection == null) {
                connection = Connection.of(ctx.channel());
            }
            e.connection = connection.serial;
            e.connectionRequests = ++connection.requests;
            if (!writer.enabled()) {
                e.format = null;
                ctx.fireChannelRead(msg);
                return;
            }
            LogFormat format = writer.format();
            e.format = format;
            e.startNanos = System.nanoTime();
            e.method = req.method();
            e.uri = req.uri();
            e.version = req.protocolVersion();
            AsciiString[] names = format.requestHeaders();
            if (e.requestHeaders.length != names.length) {
                e.requestHeaders = new CharSequence[names.length];
            }
            for (int i = 0; i < names.length; i++) {
                e.requestHeaders[i] = req.headers().get(names[i]);
            }
            int sent = format.responseHeaders().length;
            if (e.responseHeaders.length != sent) {
                e.responseHeaders = new CharSequence[sent];
            } else {
                Arrays.fill(e.responseHeaders, null);
            }
            e.user = format.readsUser() ? BasicAuth.user(req.headers().get(HttpHeaderNames.AUTHORIZATION)) : null;
            e.host = format.readsHost() ? hostOrNull(VirtualHosts.name(req)) : null;
            e.upstream.reset();
            if (format.readsRequestLength() || format.readsBytesSent()) {
                startCounting(ctx, req, format, e);
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** The request's bytes, or where to read them at the end; the answer's count starts at its head. */
    private void startCounting(ChannelHandlerContext ctx, FullHttpRequest req, LogFormat format, LogFormat.Logged e) {
        if (!codecLooked) {
            codec = ctx.pipeline().get(ServerCodec.class);
            codecLooked = true;
        }
        wire = null;
        if (format.readsRequestLength()) {
            HttpRequest head = req instanceof BodyGate.GatheredRequest g ? g.head() : req;
            if (head instanceof ServerCodec.WireRequest w) {
                wire = w;
            } else {
                e.requestLength = http1Size(req.method().name().length() + 1 + req.uri().length() + 1
                        + req.protocolVersion().text().length(), req.headers()) + req.content().readableBytes();
            }
        }
        sentBefore = -1;
        sentHeaders = 0;
        sentOutside = 0;
    }

    /**
     * What a message head takes in HTTP/1.1 form: its first line, each header field as
     * {@code name: value}, each line ended by CRLF, and the empty line.
     */
    static long http1Size(int firstLine, HttpHeaders headers) {
        long size = firstLine + 2 + 2;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            size += field.getKey().length() + 2 + field.getValue().length() + 2;
        }
        return size;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        LogFormat.Logged e = current;
        boolean last = false;
        HttpResponse sizeAfterWrite = null;
        if (e != null) {
            if (msg instanceof HttpResponse res) {
                e.status = res.status().code();
                e.bytes = 0;
                if (e.format != null && e.format.readsBytesSent() && res.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                    if (codec != null) {
                        sentBefore = codec.bytesEncoded();
                    } else {
                        sizeAfterWrite = res; // with the fields the handlers nearer the wire add (X-Request-Id, HSTS)
                    }
                }
                if (e.format != null) {
                    AsciiString[] names = e.format.responseHeaders();
                    for (int i = 0; i < names.length; i++) {
                        String value = res.headers().get(names[i]);
                        if (value == null && res instanceof FileResponse file) {
                            value = file.file().headers().get(names[i]); // the file's own, encoded with it
                        }
                        e.responseHeaders[i] = value;
                    }
                }
            }
            if (msg instanceof ByteBufHolder holder) {
                e.bytes += holder.content().readableBytes();
            } else if (msg instanceof FileRegion region) {
                e.bytes += region.count();
            } else if (msg instanceof ChunkedInput<?> input) {
                e.bytes += Math.max(0, input.length()); // a file sent over TLS
                sentOutside += Math.max(0, input.length()); // the codec passes it on as it is
            } else if (msg instanceof ByteBuf buf) {
                e.bytes += buf.readableBytes();
            }
            if (msg instanceof LastHttpContent) {
                current = null;
                last = true;
            }
        }
        ctx.write(msg, promise);
        if (sizeAfterWrite != null) {
            sentHeaders = http1Size(sizeAfterWrite.protocolVersion().text().length() + 1 + 3 + 1
                    + sizeAfterWrite.status().reasonPhrase().length(), sizeAfterWrite.headers());
        }
        if (last) {
            // After the write: the codec has encoded the answer's last part by now.
            end(ctx, e);
        }
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
    private void end(ChannelHandlerContext ctx, LogFormat.Logged e) {
        counters.count(e.status);
        e.upstream.end(0); // an attempt the answer did not close (the client left): no status
        if (e.format != null && writer.enabled()) {
            if (wire != null) {
                e.requestLength = wire.wireBytes(); // all of it, or what was read of a body not read to its end
                wire = null;
            }
            if (e.format.readsBytesSent()) {
                e.bytesSent = codec != null
                        ? (sentBefore < 0 ? 0 : codec.bytesEncoded() - sentBefore) + sentOutside
                        : sentHeaders + e.bytes;
            }
            log(ctx, e);
        }
    }

    private void log(ChannelHandlerContext ctx, LogFormat.Logged e) {
        if (clientIp == null) {
            clientIp = clientIp(ctx.channel().remoteAddress());
            tls = Tls.isSecure(ctx.channel());
        }
        RealIp.Client real = RealIp.of(ctx.channel()); // the client a trusted proxy named (web.real-ip), if any
        LogLine line = writer.line();
        // The format the request's headers were collected for, even if a reload changed the writer's since.
        e.format.write(line, e, real == null ? clientIp : real.text(), tls, System.nanoTime());
        writer.append(line);
    }

    private static String hostOrNull(String name) {
        return name.isEmpty() ? null : name;
    }

    static String clientIp(SocketAddress address) {
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress()
                : "-";
    }
}
