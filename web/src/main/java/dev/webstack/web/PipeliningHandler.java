package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The life of a client connection: one request at a time, keep-alive, idle and drain.
 *
 * <ul>
 *   <li>Requests are handed on one at a time and the next only once the previous response has been
 *       written, so pipelined requests (RFC 9112 section 9.3.2) are answered in order whatever
 *       mixes of static and proxied requests they are. The socket is read while no request is
 *       waiting: as soon as a request arrives while another is being answered, reading stops
 *       (AUTO_READ off) until the waiting ones are answered, so a client cannot queue more than one
 *       read's worth of requests. A client that waits for each response (the usual keep-alive
 *       client) never toggles reading, which would cost two {@code epoll_ctl} calls per request.</li>
 *   <li>Keep-alive follows the request (RFC 9112 section 9.3): {@code Connection: close}, an
 *       HTTP/1.0 request without {@code keep-alive}, a bad request, a response without a length or
 *       one to an {@code Expect: 100-continue} request whose body was not invited
 *       ({@link BodyGate}) close the connection after the response. When the client may still be
 *       sending then (a refused request, a body not read to its end, an uninvited body, requests
 *       pipelined behind), it closes by {@link LingeringClose}, so that the answer is not lost to a
 *       reset.</li>
 *   <li>A connection carries at most {@code web.keepalive-requests} requests (nginx's
 *       {@code keepalive_requests}), and serves them for at most {@code web.keepalive-time}
 *       (nginx's {@code keepalive_time}): the answer to the last one says {@code Connection: close},
 *       and the connection closes after it (by {@link LingeringClose} when requests were pipelined
 *       behind it: the client sends those again on a new connection).</li>
 *   <li>An {@link IdleStateEvent} closes the connection when it is between requests, or when a
 *       response has started but the client has not taken any of it for the idle time.</li>
 *   <li>{@link Drain} (graceful stop) closes the connection now if it is between requests, else
 *       after the current response, which then says {@code Connection: close}.</li>
 *   <li>A {@code 101 Switching Protocols} is the last response on the connection: it keeps its
 *       {@code Connection: upgrade}, and no next request is read, since the bytes that follow belong
 *       to the new protocol ({@link WebSocketTunnel}, which then replaces these handlers).</li>
 * </ul>
 */
final class PipeliningHandler extends ChannelDuplexHandler {

    /** Graceful stop: finish the current response, then close. */
    enum Drain { INSTANCE }

    /**
     * Closes a connection that has no response of its own to finish when it has been idle too long
     * or on a graceful stop ({@link Drain}): a {@link WebSocketTunnel}. (An HTTP/2 connection has
     * {@link Http2Shutdown}.)
     */
    @ChannelHandler.Sharable
    static final class CloseOnIdleOrDrain extends ChannelInboundHandlerAdapter {
        static final CloseOnIdleOrDrain INSTANCE = new CloseOnIdleOrDrain();

        private CloseOnIdleOrDrain() {}

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent || evt == Drain.INSTANCE) {
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    // No volatile needed: every field is touched on the channel's event loop only.
    // Requests not yet dispatched, each followed by the body pieces of a streamed request.
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private boolean busy;
    private boolean keepAlive;
    private boolean http10;
    private boolean head;
    private boolean responseStarted;
    private boolean closeAfterResponse;
    private boolean draining;
    private boolean switched;
    // The request being answered when it is one whose client waits for a 100 (Continue) before its body.
    private BodyGate.StreamedRequest expecting;
    // Whether the body of the request being answered is still arriving.
    private boolean bodyUnread;
    // Whether the request being answered could not be read (RequestFramingGuard, the codec).
    private boolean refused;
    // Whether the client may still be sending when the connection closes after this answer (LingeringClose).
    private boolean lingerAfterResponse;
    // Requests handed on so far, for web.keepalive-requests; not counted on an HTTP/2 stream (one
    // request), whose connection counts its streams (ClientPipeline#addHttp2).
    private int requests;
    private boolean stream;
    // When the connection was accepted (System.nanoTime()), for web.keepalive-time.
    private long openedAt;
    private WebConfig.Limits limits;
    // limits.keepaliveTime() in nanoseconds, read per answer.
    private long keepaliveNanos;

    PipeliningHandler(WebConfig.Limits limits) {
        use(limits);
    }

    /** Closes by the lingering times and request count of {@code next} from now on (reload). Call on the event loop. */
    void use(WebConfig.Limits next) {
        limits = next;
        keepaliveNanos = next.keepaliveTime().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        stream = ctx.channel() instanceof Http2StreamChannel;
        openedAt = System.nanoTime();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(true);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest req) {
            if (busy || closeAfterResponse || !waiting.isEmpty()) {
                waiting.add(req);
                ctx.channel().config().setAutoRead(false);
            } else {
                dispatch(ctx, req);
            }
        } else if (msg instanceof HttpContent content) {
            // A piece of a streamed body: behind its request when that waits, else on to the handlers
            // (the proxy streams it, or drops it when the request was answered without it).
            if (waiting.isEmpty()) {
                bodyUnread &= !(content instanceof LastHttpContent);
                ctx.fireChannelRead(content);
            } else {
                waiting.add(content);
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest req) {
        busy = true;
        requests++;
        responseStarted = false;
        keepAlive = req.decoderResult().isSuccess() && HttpUtil.isKeepAlive(req);
        http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        head = req.method().equals(HttpMethod.HEAD);
        expecting = req instanceof BodyGate.StreamedRequest s && s.awaitsContinue() ? s : null;
        bodyUnread = req instanceof BodyGate.StreamedRequest;
        refused = req.decoderResult().isFailure();
        lingerAfterResponse = false;
        ctx.fireChannelRead(req);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse res && !res.headers().contains(HttpHeaderNames.DATE)) {
            // Every answer carries the time (RFC 9110 section 6.6.1); a proxied one keeps the app server's.
            res.headers().set(HttpHeaderNames.DATE, HttpDate.now());
        }
        if (msg instanceof HttpResponse res && busy && res.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            // Its Connection: upgrade stays: the connection is the new protocol's from here on.
            responseStarted = true;
            switched = true;
        } else if (msg instanceof HttpResponse res && busy) {
            responseStarted = true;
            // Answered without inviting the body it expected to send: whether the client sends it
            // anyway or not, the bytes that follow cannot be told apart, so the connection closes.
            boolean uninvited = expecting != null && expecting.awaitsContinue();
            boolean closeAsked = res.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
            boolean close = !keepAlive || draining || uninvited || closeAsked || !hasLength(res) || lastRequest();
            if (close) {
                closeAfterResponse = true;
                // A refused request's bytes, or a body sent uninvited, may still be on their way
                // (not after a 408: that client is the slow one the timeout is for).
                int code = res.status().code();
                lingerAfterResponse = uninvited || (code >= 400 && code != 408 && (refused || closeAsked));
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (http10) {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            } else {
                res.headers().remove(HttpHeaderNames.CONNECTION);
            }
        }
        if (!(msg instanceof LastHttpContent) || !busy) {
            ctx.write(msg, promise);
            return;
        }
        if (switched) {
            ctx.write(msg, promise);
            busy = false;
            return;
        }
        ChannelPromise written = promise.unvoid();
        ctx.write(msg, written);
        busy = false;
        responseStarted = false;
        if (closeAfterResponse || draining) {
            closeAfterResponse = true;
            ctx.channel().config().setAutoRead(false);
            if (!draining && (lingerAfterResponse || bodyUnread || !waiting.isEmpty())) {
                written.addListener(f -> {
                    if (f.isSuccess()) {
                        LingeringClose.close(ctx.channel(), limits);
                    } else {
                        ctx.close();
                    }
                });
            } else {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        } else if (!waiting.isEmpty() || !ctx.channel().config().isAutoRead()) {
            // Not from inside this write: the next request's handlers write themselves.
            ctx.executor().execute(() -> next(ctx));
        }
        // Else (the usual keep-alive client, which waits for each answer) nothing waits and the
        // socket is read already: no task to run.
    }

    private void next(ChannelHandlerContext ctx) {
        if (busy || !ctx.channel().isActive()) {
            return;
        }
        Object first = waiting.poll();
        if (first instanceof FullHttpRequest req) {
            dispatch(ctx, req);
            // Only this request's own body pieces follow it now. A whole request is an HttpContent
            // too: the next pipelined one waits for this one's answer.
            while (waiting.peek() instanceof HttpContent piece && !(piece instanceof HttpRequest)) {
                bodyUnread &= !(piece instanceof LastHttpContent);
                ctx.fireChannelRead(waiting.poll());
            }
        } else if (first != null) {
            // Cannot happen: pieces are only queued behind their request.
            ReferenceCountUtil.release(first);
        } else if (!closeAfterResponse) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /**
     * Whether the request being answered is the last this connection carries: the
     * {@code web.keepalive-requests}th, or the first answered after {@code web.keepalive-time}.
     * Not on an HTTP/2 stream, whose connection keeps both limits ({@link ClientPipeline#addHttp2}).
     */
    private boolean lastRequest() {
        if (stream) {
            return false;
        }
        int most = limits.keepaliveRequests();
        return (most > 0 && requests >= most) || (keepaliveNanos > 0 && System.nanoTime() - openedAt >= keepaliveNanos);
    }

    private boolean hasLength(HttpResponse res) {
        int code = res.status().code();
        return head || code == 204 || code == 304 || (code >= 100 && code < 200)
                || HttpUtil.isContentLengthSet(res) || HttpUtil.isTransferEncodingChunked(res)
                || res instanceof FileResponse; // its Content-Length is in the file's encoded headers
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (!busy || responseStarted) {
                ctx.close();
            }
            return;
        }
        if (evt == Drain.INSTANCE) {
            draining = true;
            if (!busy) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // Requests pipelined behind a protocol switch are never answered.
        releaseWaiting();
    }

    private void releaseWaiting() {
        Object queued;
        while ((queued = waiting.poll()) != null) {
            ReferenceCountUtil.release(queued);
        }
    }
}
