package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request: its upstream connection, its timer and the streaming of the response back.
 * Everything runs on the client connection's event loop, which the upstream connection shares.
 *
 * <ul>
 *   <li>The app server is chosen by the {@link UpstreamGroup}; the member counts the request in
 *       flight until the exchange ends (or moves to another member).</li>
 *   <li>Retries, at most one per other member (members - 1): a request whose connection could not
 *       be opened goes to another member whatever its method (nothing reached a server). A
 *       connection lost before any response byte is retried on another member only for idempotent
 *       methods (RFC 9110 section 9.2.2) whose body is held whole (not {@link BodyGate.StreamedRequest}):
 *       a POST that was written is never sent twice. A pooled connection that turns out to be
 *       closed is first retried once on a new connection to the same member (a stale keep-alive
 *       connection says nothing about the member). When nothing is left → 502.</li>
 *   <li>Connect errors, connections lost before the response and timeouts count as the member's
 *       failures (passive ejection, see {@link BalancerSettings#passiveFails()}); any response,
 *       5xx included, breaks the run.</li>
 *   <li>No response headers within {@code web.readTimeout()} (default 30 s) → 504. After the
 *       headers, the same time without any body bytes closes both connections (the client cannot be
 *       told anything else once the status line is out).</li>
 *   <li>The response streams: each piece is read from the app server only after the previous one was
 *       written to the client (the upstream channel runs with AUTO_READ off), so a slow client slows
 *       the app server connection down instead of filling memory. A response without a length is
 *       sent chunked to HTTP/1.1 clients, and to HTTP/1.0 clients until the connection closes.</li>
 *   <li>A large request body ({@link BodyGate.StreamedRequest}) streams the other way: the client's
 *       socket is read (AUTO_READ off) only once the previous piece was written to the app server;
 *       each piece restarts the read timeout; such a request is never retried. An app server that
 *       answers before the body is all sent gets its connection closed, not pooled.</li>
 *   <li>A WebSocket handshake ({@link ProxyHeaders#isWebSocketUpgrade}) goes on a new connection of
 *       its own, never a pooled one, since it may end up owning it. A {@code 101} with
 *       {@code Upgrade: websocket} is relayed and the two connections become a
 *       {@link WebSocketTunnel}; the exchange, and the member's in-flight request, end there (a
 *       long-lived WebSocket does not hold a drain). Any other answer is relayed as usual and the
 *       connection closed after it. A {@code 101} that was not asked for, or to another protocol,
 *       is a 502.</li>
 * </ul>
 */
final class ProxyExchange {
    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);
    private static final Set<HttpMethod> IDEMPOTENT = Set.of(
            HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.TRACE);

    private final ChannelHandlerContext client;
    private final FullHttpRequest request;
    private final UpstreamGroup group;
    private final UpstreamPool pool;
    private final Duration readTimeout;
    private final boolean clientHttp10;
    private final boolean webSocket;
    private final boolean head;
    private final boolean streamedBody;
    // Body pieces that arrived before the upstream connection was ready (at most one read's worth).
    private final java.util.ArrayDeque<HttpContent> pendingBody = new java.util.ArrayDeque<>();
    private boolean bodyComplete;

    // No volatile needed: client channel, upstream channel and timer share one event loop.
    private Channel upstream;
    private Member member;
    // What the access log records of the app servers tried ($upstream_addr ...); null when it records nothing.
    private final LogFormat.UpstreamTrace trace;
    private HostPort target;
    // Members this request already failed on; allocated on the first retry only.
    private List<Member> tried = List.of();
    private int hopsLeft;
    private boolean reused;
    private boolean retried;
    private boolean responseStarted;
    private boolean skippingInterim;
    private boolean upstreamKeepAlive;
    // The client's 101, from the upstream's 101 until the codec has handed on its end.
    private FullHttpResponse switched;
    private boolean done;
    // The response head to the client, until its first body piece or the end of the read.
    private HttpResponse pendingHead;
    private final ExchangeTimer timer;
    private final long readTimeoutNanos;
    private long deadlineNanos;
    private boolean watched;

    /** Takes over {@code request}, already rewritten for the upstream. */
    ProxyExchange(ChannelHandlerContext client, FullHttpRequest request, boolean clientHttp10, boolean webSocket,
                  UpstreamGroup group, UpstreamPool pool, Duration readTimeout, ExchangeTimer timer, LogFormat.UpstreamTrace trace) {
        this.client = client;
        this.trace = trace;
        this.timer = timer;
        this.readTimeoutNanos = readTimeout.toNanos();
        this.request = request;
        this.clientHttp10 = clientHttp10;
        this.webSocket = webSocket;
        this.group = group;
        this.pool = pool;
        this.readTimeout = readTimeout;
        this.head = request.method().equals(HttpMethod.HEAD);
        this.streamedBody = request instanceof BodyGate.StreamedRequest;
        this.bodyComplete = !streamedBody;
    }

    void start() {
        if (streamedBody) {
            // The client's socket is read only as fast as the app server takes the body.
            client.channel().config().setAutoRead(false);
            retried = true; // a streamed body cannot be sent a second time
            ((BodyGate.StreamedRequest) request).sendContinue(); // the client may send it now (Expect: 100-continue)
        }
        hopsLeft = group.size() - 1;
        if (!enter(group.choose(tried))) {
            fail(HttpResponseStatus.BAD_GATEWAY, new IOException("no application server takes requests"));
            return;
        }
        sendOnPooledOrNew();
    }

    private void sendOnPooledOrNew() {
        Channel idle = webSocket ? null : pool.pollIdle(client.channel().eventLoop(), target);
        if (idle != null) {
            reused = true;
            send(idle);
            return;
        }
        connect();
    }

    private void connect() {
        reused = false;
        ChannelFuture f = pool.connect(client.channel().eventLoop(), target);
        f.addListener(x -> {
            if (done) {
                f.channel().close();
            } else if (f.isSuccess()) {
                send(f.channel());
            } else {
                memberFailed();
                // As nginx: a connect that timed out is 504 (its "upstream timed out while
                // connecting"), one refused or unreachable 502; the attempt is logged so too.
                HttpResponseStatus status = f.cause() instanceof ConnectTimeoutException
                        ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY;
                if (trace != null) {
                    trace.end(status.code());
                }
                // Nothing reached a server: any method may go elsewhere.
                if (!retryElsewhere(f.cause())) {
                    fail(status, f.cause());
                }
            }
        });
    }

    private boolean enter(Member m) {
        if (m == null) {
            return false;
        }
        member = m;
        target = m.address;
        m.begin();
        if (trace != null) {
            trace.begin(m.address);
        }
        return true;
    }

    private void leave() {
        if (member != null) {
            member.end();
            member = null;
        }
    }

    private void memberFailed() {
        if (member != null && member.failed(group.settings().passiveFails(), group.settings().passiveWindow().toNanos(), System.nanoTime())) {
            log.warn("upstream {} ({}): ejected after {} failures in a row", member.name, target, group.settings().passiveFails());
        }
    }

    /** Moves the request to a member it did not fail on yet; false when none is left. */
    private boolean retryElsewhere(Throwable cause) {
        if (hopsLeft <= 0 || done) {
            return false;
        }
        Member failed = member;
        if (tried.isEmpty()) {
            tried = new ArrayList<>(2);
        }
        tried.add(failed);
        Member next = group.choose(tried);
        if (next == null) {
            return false;
        }
        hopsLeft--;
        leave();
        enter(next);
        log.info("upstream {} ({}): {}; retrying on {} ({})", failed.name, failed.address, cause.toString(), next.name, target);
        skippingInterim = false;
        sendOnPooledOrNew();
        return true;
    }

    private void send(Channel ch) {
        upstream = ch;
        ch.pipeline().get(UpstreamHandler.class).bind(this);
        armTimer();
        if (streamedBody) {
            ch.write(new DefaultHttpRequest(request.protocolVersion(), request.method(), request.uri(), request.headers()))
                    .addListener(f -> {
                        if (!f.isSuccess() && ch == upstream) {
                            upstreamFailed(f.cause());
                        }
                    });
            HttpContent piece;
            boolean any = false;
            while ((piece = pendingBody.poll()) != null) {
                forwardBody(piece);
                any = true;
            }
            if (!any) {
                ch.flush();
                client.channel().read();
            }
        } else {
            // The body as a duplicate (a retry must send it again from its start), the headers
            // shared: nothing on the way out changes them, and a copy per request showed in profiles.
            ch.writeAndFlush(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                    request.content().retainedDuplicate(), request.headers(), request.trailingHeaders())).addListener(f -> {
                if (!f.isSuccess() && ch == upstream) {
                    upstreamFailed(f.cause());
                }
            });
        }
        ch.read();
    }

    /** A piece of the client's streamed request body. */
    void onRequestContent(HttpContent content) {
        if (done || !streamedBody || bodyComplete) {
            content.release();
            return;
        }
        if (content.decoderResult().isFailure()) {
            content.release();
            fail(HttpResponseStatus.BAD_REQUEST, content.decoderResult().cause());
            return;
        }
        if (upstream == null) {
            pendingBody.add(content);
            return;
        }
        forwardBody(content);
    }

    private void forwardBody(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        bodyComplete = last;
        armTimer();
        Channel ch = upstream;
        ch.writeAndFlush(content).addListener(f -> {
            if (!f.isSuccess()) {
                if (ch == upstream) {
                    upstreamFailed(f.cause());
                }
            } else if (!last && !done) {
                client.channel().read();
            }
        });
    }

    void onResponse(HttpResponse res) {
        if (done) {
            return;
        }
        int code = res.status().code();
        if (code < 100 || code > 599) {
            // Three digits, 100 to 599 (RFC 9110 section 15): nothing else goes to a client (nginx: 502 too).
            fail(HttpResponseStatus.BAD_GATEWAY, new IOException("the application server answered with status code " + code));
            return;
        }
        if (code == 101) {
            onSwitchingProtocols(res);
            return;
        }
        if (code >= 100 && code < 200) {
            // Interim responses (100 Continue, 103 Early Hints) are the upstream hop's business.
            skippingInterim = true;
            upstream.read();
            return;
        }
        armTimer();
        responseStarted = true;
        member.answered();
        if (trace != null) {
            trace.answered(code);
        }
        // A WebSocket handshake's connection is its own: closed after any answer but a 101.
        upstreamKeepAlive = HttpUtil.isKeepAlive(res) && !webSocket;
        DefaultHttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, res.status(), res.headers());
        ProxyHeaders.toClient(out.headers());
        boolean bodyless = head || code == 204 || code == 304;
        if (!bodyless && !out.headers().contains(HttpHeaderNames.CONTENT_LENGTH) && !clientHttp10) {
            out.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        // Held back: the body usually comes in the same read, and then goes out with the head as
        // one message (see onContent); else the end of the read sends the head alone.
        pendingHead = out;
        upstream.read();
    }

    private void onSwitchingProtocols(HttpResponse res) {
        if (!webSocket || !res.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            // The upstream connection speaks something else now: fail() closes it.
            fail(HttpResponseStatus.BAD_GATEWAY, new IOException("the application server switched protocols to '"
                    + res.headers().get(HttpHeaderNames.UPGRADE, "") + "' unasked"));
            return;
        }
        // The tunnel starts once the codec has handed on the end of the 101 (onContent).
        responseStarted = true;
        member.answered();
        if (trace != null) {
            trace.answered(101);
        }
        DefaultFullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, res.status(), Unpooled.EMPTY_BUFFER,
                res.headers(), EmptyHttpHeaders.INSTANCE);
        ProxyHeaders.toClientSwitching(out.headers());
        switched = out;
        upstream.read();
    }

    /** Relays the 101 and hands both connections over to a {@link WebSocketTunnel}. */
    private void startTunnel() {
        done = true;
        if (trace != null) {
            trace.end(0);
        }
        detach(upstream);
        leave();
        request.release();
        FullHttpResponse out = switched;
        switched = null;
        client.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        // The 101 went through the HTTP handlers above (written synchronously, on this loop): from
        // here on, both connections carry WebSocket frames, which no HTTP handler may touch.
        WebSocketTunnel.join(client.channel(), upstream, readTimeout);
    }

    /** The upstream read ended: send what is still waiting, e.g. response headers before a slow body. */
    void upstreamReadComplete() {
        if (pendingHead != null && !done) {
            writeHead();
            client.flush();
        }
    }

    private void writeHead() {
        HttpResponse out = pendingHead;
        pendingHead = null;
        client.write(out).addListener(f -> {
            if (!f.isSuccess()) {
                abort();
            }
        });
    }

    void onContent(HttpContent content) {
        if (done) {
            content.release();
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (skippingInterim) {
            content.release();
            skippingInterim = !last;
            upstream.read();
            return;
        }
        if (switched != null) {
            // The end of the 101 (a 1xx has no body): anything after it is WebSocket frames.
            content.release();
            if (last) {
                startTunnel();
            } else {
                upstream.read();
            }
            return;
        }
        armTimer();
        HttpContent piece = content instanceof HttpResponse
                ? (last ? new DefaultLastHttpContent(content.content()) : new DefaultHttpContent(content.content()))
                : content;
        ChannelFuture written;
        if (pendingHead != null && last && !HttpUtil.isTransferEncodingChunked(pendingHead)) {
            // The whole response in one read, the usual case: one message through the client's
            // handlers, encoded into one buffer, one write(2) instead of a writev(2) of two.
            HttpResponse h = pendingHead;
            pendingHead = null;
            written = client.writeAndFlush(new DefaultFullHttpResponse(h.protocolVersion(), h.status(), piece.content(),
                    h.headers(), ((LastHttpContent) piece).trailingHeaders()));
        } else {
            if (pendingHead != null) {
                writeHead();
            }
            written = client.writeAndFlush(piece);
        }
        if (last) {
            finish();
            return;
        }
        written.addListener(f -> {
            if (!f.isSuccess()) {
                abort();
            } else if (!done) {
                upstream.read();
            }
        });
    }

    /** The upstream connection broke or sent garbage. */
    void upstreamFailed(Throwable cause) {
        if (done) {
            return;
        }
        Channel broken = upstream;
        upstream = null;
        detach(broken);
        broken.close();
        boolean replayable = !streamedBody && IDEMPOTENT.contains(request.method());
        if (!responseStarted && reused && !retried && replayable) {
            log.debug("upstream {}: pooled connection failed ({}), retrying on a new one", target, cause.toString());
            retried = true;
            skippingInterim = false;
            connect();
            return;
        }
        if (!responseStarted) {
            memberFailed();
            if (replayable && retryElsewhere(cause)) {
                return;
            }
        }
        fail(HttpResponseStatus.BAD_GATEWAY, cause);
    }

    /** The client went away: drop the upstream connection, its response is of no use now. */
    void clientClosed() {
        if (done) {
            return;
        }
        done = true;
        leave();
        if (upstream != null) {
            detach(upstream);
            upstream.close();
        }
        releasePendingBody();
        request.release();
    }

    private void releasePendingBody() {
        HttpContent piece;
        while ((piece = pendingBody.poll()) != null) {
            piece.release();
        }
        if (switched != null) {
            switched.release();
            switched = null;
        }
    }

    private void finish() {
        done = true;
        if (trace != null) {
            trace.end(0);
        }
        detach(upstream);
        releasePendingBody();
        // A drained, disabled or removed member keeps no idle connection.
        if (upstreamKeepAlive && bodyComplete && member.pooled()) {
            pool.release(upstream);
        } else {
            upstream.close();
        }
        leave();
        request.release();
    }

    private void fail(HttpResponseStatus status, Throwable cause) {
        done = true;
        if (trace != null) {
            trace.end(status.code());
        }
        leave();
        request.release();
        if (upstream != null) {
            detach(upstream);
            upstream.close();
        }
        releasePendingBody();
        if (responseStarted) {
            log.info("upstream {}: {} after the response started; closing the client connection", target, cause.toString());
            client.close();
            return;
        }
        log.warn("upstream {}: {} {}: {}", target, status.code(), status.reasonPhrase(), cause.toString());
        String message = status.equals(HttpResponseStatus.GATEWAY_TIMEOUT)
                ? "The application server did not answer in time. Please try again in a moment."
                : status.equals(HttpResponseStatus.BAD_REQUEST)
                ? "The request body could not be read."
                : "The application server is not answering. Please try again in a moment.";
        FullHttpResponse page = Responses.page(client.alloc(), status, message);
        if (!bodyComplete) {
            // The rest of the body would have to be read and thrown away: close instead.
            page.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        client.writeAndFlush(page);
    }

    private void abort() {
        if (!done) {
            clientClosed();
        }
        client.close();
    }

    /** When {@link #timedOut()} is due, in {@link System#nanoTime()} terms. */
    long deadlineNanos() {
        return deadlineNanos;
    }

    boolean isDone() {
        return done;
    }

    /** The deadline passed without a sign of life from the app server ({@link ExchangeTimer}). */
    void timedOut() {
        if (done) {
            return;
        }
        if (!responseStarted) {
            memberFailed();
        }
        fail(HttpResponseStatus.GATEWAY_TIMEOUT,
                new TimeoutException("no answer within " + readTimeout.toMillis() + " ms"));
    }

    /** Gives the app server {@code web.readTimeout()} from now for its next sign of life. */
    private void armTimer() {
        deadlineNanos = System.nanoTime() + readTimeoutNanos;
        if (!watched) {
            watched = true;
            timer.watch(this);
        }
    }

    private void detach(Channel ch) {
        UpstreamHandler h = ch.pipeline().get(UpstreamHandler.class);
        if (h != null) {
            h.unbind();
        }
    }
}
