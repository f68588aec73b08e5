package dev.webstack.web;

import dev.webstack.common.config.WebConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Checks every request's framing on the raw bytes, before the HTTP codec reads them, and stops the
 * connection at the first request that is not plainly well formed: such a request is where request
 * smuggling lives (two parsers disagreeing where a request ends), so it is answered 4xx and the
 * connection closed, and no byte of it is ever forwarded (the aggregator only hands on complete
 * requests, and the rejected one never completes).
 *
 * <p>What passes is a strict subset of RFC 9112, so that the codec behind and any server behind
 * that read it the same way:
 * <table>
 *   <caption>Rejected</caption>
 *   <tr><th>what</th><th>answer</th><th>why</th></tr>
 *   <tr><td>a line not ended by CRLF (bare LF), a CR not followed by LF</td><td>400</td><td>RFC 9112 section 2.2</td></tr>
 *   <tr><td>control characters (other than HTAB in values) in the request line, names or values</td><td>400</td><td>RFC 9110 section 5.5</td></tr>
 *   <tr><td>a header line starting with SP or HTAB (obs-fold)</td><td>400</td><td>RFC 9112 section 5.2</td></tr>
 *   <tr><td>a name with characters other than tchar, whitespace before the colon</td><td>400</td><td>RFC 9112 section 5.1; CVE-2019-16869</td></tr>
 *   <tr><td>both Content-Length and Transfer-Encoding</td><td>400</td><td>RFC 9112 section 6.1; CVE-2019-20445</td></tr>
 *   <tr><td>Transfer-Encoding other than one {@code chunked}, or on HTTP/1.0</td><td>400</td><td>RFC 9112 section 6.1; CVE-2020-7238, CVE-2019-20444</td></tr>
 *   <tr><td>Content-Length repeated or not 1 to 18 digits</td><td>400</td><td>RFC 9112 section 6.3</td></tr>
 *   <tr><td>chunk size not 1 to 16 hex digits ended by CRLF or {@code ;ext}, chunk data not ended by CRLF</td><td>400</td><td>RFC 9112 section 7.1</td></tr>
 *   <tr><td>Host repeated, or with a character no host name, address or port has ({@code /}, {@code @}, {@code ?}, ...)</td><td>400</td><td>RFC 9112 section 3.2</td></tr>
 *   <tr><td>request line over {@link WebConfig.Limits#maxRequestLine()} bytes</td><td>414</td><td>RFC 9112 section 3</td></tr>
 *   <tr><td>header section over {@link WebConfig.Limits#maxHeaderSize()} bytes, or over {@link WebConfig.Limits#maxHeaders()} fields</td><td>431</td><td>RFC 6585 section 5</td></tr>
 *   <tr><td>a body (declared or chunked) over {@link WebConfig.Limits#maxBody()}</td><td>413</td><td>RFC 9110 section 15.5.14</td></tr>
 *   <tr><td>a header section not complete {@link WebConfig.Limits#headerTimeout()} after its first byte (slowloris)</td><td>408</td><td>RFC 9110 section 15.5.9</td></tr>
 * </table>
 * The rejection travels to {@link BadRequestHandler} as a request whose decoder result is a
 * {@link MalformedRequestException}, in order after the requests before it on the connection.
 */
final class RequestFramingGuard extends ByteToMessageDecoder {
    static final int MAX_CHUNK_EXTENSION = 1024;
    private static final Pattern CONTENT_LENGTH = Pattern.compile("[0-9]{1,18}");
    private static final byte CR = '\r';
    private static final byte LF = '\n';

    /** A request refused on its framing; carries the status to answer. */
    static final class MalformedRequestException extends RuntimeException {
        private final HttpResponseStatus status;

        MalformedRequestException(HttpResponseStatus status, String reason) {
            super(reason, null, false, false);
            this.status = status;
        }

        HttpResponseStatus status() {
            return status;
        }
    }

    private enum State {
        LINE, LINE_LF, NAME_START, NAME, VALUE, VALUE_LF, END_LF,
        BODY, CHUNK_SIZE, CHUNK_EXT, CHUNK_SIZE_LF, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF, REJECTED
    }

    // The limits the request being read is held to; a reload's are taken at the start of the next
    // request (the one being read keeps its own).
    private WebConfig.Limits limits;
    private long headerTimeoutNanos;
    private WebConfig.Limits next;
    // No volatile needed: one channel, one event loop.
    private ChannelHandlerContext ctx;
    // One timer per connection, not one per request: a request's start sets the deadline and
    // schedules the timer only if none is pending; the end of its headers clears the deadline, and a
    // timer that fires early (a later request's deadline) schedules itself again for that deadline.
    private ScheduledFuture<?> headerTimer;
    private long headerDeadline;
    private boolean awaitingHeaders;
    private State state = State.LINE;
    private int scanned;
    private int forwardable;
    private final StringBuilder line = new StringBuilder();
    private final StringBuilder name = new StringBuilder();
    private final StringBuilder value = new StringBuilder();
    // Which framing header the header being read is (null: none).
    private FramingName framingName;
    private boolean trailers;
    private boolean http10;
    private int headerBytes;
    private int headerCount;
    private int contentLengths;
    private int transferEncodings;
    private int hosts;
    private String contentLength = "";
    private String transferEncoding = "";
    // The current request line and where its target lies in it, for the log of a refused request.
    private String requestLine;
    private int targetStart;
    private int targetEnd;
    private long remaining;
    private long chunkSize;
    private int chunkDigits;
    private int chunkExtension;
    private long bodyBytes;

    RequestFramingGuard(WebConfig.Limits limits) {
        this.limits = limits;
        this.headerTimeoutNanos = limits.headerTimeout().toNanos();
    }

    /** Applies {@code limits} (sizes, header time) from the next request on: a reload. Call on the event loop. */
    void use(WebConfig.Limits limits) {
        next = limits;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        cancelHeaderTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelHeaderTimer();
        super.channelInactive(ctx);
    }

    /**
     * The timer is due: nothing to do between requests; a deadline further on (a later request's)
     * schedules it again; else the header section did not arrive in time: 408 (RFC 9110 section
     * 15.5.9), whatever came of it is dropped.
     */
    private void headerTimerFired() {
        headerTimer = null;
        if (!awaitingHeaders || state == State.REJECTED || !ctx.channel().isActive()) {
            return;
        }
        long left = headerDeadline - System.nanoTime();
        if (left > 0) {
            headerTimer = ctx.executor().schedule(this::headerTimerFired, left, TimeUnit.NANOSECONDS);
            return;
        }
        state = State.REJECTED;
        ctx.fireChannelRead(rejected(new MalformedRequestException(HttpResponseStatus.REQUEST_TIMEOUT,
                "The request headers did not arrive in time.")));
        ctx.fireChannelReadComplete();
    }

    private void startHeaderTimer() {
        if (next != null) {
            limits = next;
            headerTimeoutNanos = next.headerTimeout().toNanos();
            next = null;
        }
        awaitingHeaders = true;
        headerDeadline = System.nanoTime() + headerTimeoutNanos;
        if (headerTimer == null) {
            headerTimer = ctx.executor().schedule(this::headerTimerFired, headerTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void cancelHeaderTimer() {
        awaitingHeaders = false;
        if (headerTimer != null) {
            headerTimer.cancel(false);
            headerTimer = null;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == State.REJECTED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int base = in.readerIndex();
        int end = in.writerIndex();
        try {
            while (base + scanned < end) {
                int at = base + scanned;
                if (state == State.BODY || state == State.CHUNK_DATA) {
                    int n = (int) Math.min(remaining, end - at);
                    scanned += n;
                    remaining -= n;
                    if (remaining == 0) {
                        state = state == State.BODY ? startRequest() : State.CHUNK_DATA_CR;
                    }
                    markForwardable();
                } else if (bulk()) {
                    // The rest of a request line or a value nothing reads (all but the framing
                    // headers'): checked in bulk up to its CR; that CR, or any other control
                    // byte, goes through the state machine.
                    int stop = in.forEachByte(at, end - at, PLAIN_BYTE);
                    int n = (stop < 0 ? end : stop) - at;
                    if (n == 0) {
                        in.forEachByte(at, end - at, scanner);
                    } else if (state == State.LINE) {
                        checkLineRoom(n);
                        line.append(in.toString(at, n, StandardCharsets.ISO_8859_1));
                        scanned += n;
                    } else {
                        count(n);
                        scanned += n;
                    }
                } else {
                    // Byte by byte through the state machine, until a body to skip in bulk, a part
                    // to check in bulk, or the end.
                    in.forEachByte(at, end - at, scanner);
                }
            }
        } catch (MalformedRequestException e) {
            boolean inBody = state.ordinal() >= State.BODY.ordinal() || trailers;
            forward(in, out);
            if (inBody) {
                // The headers went on already: end the body in failure, so that a request whose body
                // streams to the app server is aborted rather than left waiting.
                LastHttpContent broken = new DefaultLastHttpContent();
                broken.setDecoderResult(DecoderResult.failure(e));
                out.add(broken);
            }
            in.skipBytes(in.readableBytes());
            state = State.REJECTED;
            cancelHeaderTimer();
            out.add(rejected(e));
            return;
        }
        forward(in, out);
    }

    private FullHttpRequest rejected(MalformedRequestException e) {
        String target = requestLine == null ? "-" : requestLine.substring(targetStart, targetEnd);
        FullHttpRequest rejected = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, methodForLog(), target);
        rejected.setDecoderResult(DecoderResult.failure(e));
        return rejected;
    }

    // Steps one byte; stops the scan when a body begins (skipped in bulk by decode) or a part that
    // decode checks in bulk.
    private final ByteProcessor scanner = b -> {
        scanned++;
        step(b);
        markForwardable();
        return state != State.BODY && state != State.CHUNK_DATA && !bulk();
    };

    /** Any byte of a request line or header value but a control character (HTAB is one in a request line). */
    private static final ByteProcessor PLAIN_BYTE = b -> !isControl(b) && b != '\t';

    /**
     * In a part whose bytes need only be free of control characters: a request line after its
     * first byte (which starts the header timer), or a value nothing reads (every value but
     * Content-Length's and Transfer-Encoding's). A tab ends the bulk check; in a value the state
     * machine allows it and the check goes on after it.
     */
    private boolean bulk() {
        return state == State.LINE ? line.length() > 0 : state == State.VALUE && !readsValue() && framingName != FramingName.HOST;
    }

    /** Bytes up to here may go on: they are in a body, or end a request's header section. */
    private void markForwardable() {
        if (state.ordinal() >= State.BODY.ordinal() || state == State.LINE && line.isEmpty()) {
            forwardable = scanned;
        }
    }

    private void forward(ByteBuf in, List<Object> out) {
        if (forwardable > 0) {
            out.add(in.readRetainedSlice(forwardable));
            scanned -= forwardable;
            forwardable = 0;
        }
    }

    private void step(byte b) {
        switch (state) {
            case LINE -> {
                if (b == CR) {
                    state = State.LINE_LF;
                } else if (isControl(b) || b == '\t') {
                    throw bad("a control character in the request line");
                } else {
                    checkLineRoom(1);
                    if (line.isEmpty() && !awaitingHeaders) {
                        startHeaderTimer();
                    }
                    line.append((char) (b & 0xff));
                }
            }
            case LINE_LF -> {
                if (b != LF) {
                    throw bad("a CR without LF in the request line");
                }
                if (line.isEmpty()) {
                    // An empty line before a request is tolerated (RFC 9112 section 2.2).
                    state = State.LINE;
                    return;
                }
                requestLine();
                state = State.NAME_START;
            }
            case NAME_START -> {
                count();
                if (b == CR) {
                    state = State.END_LF;
                } else if (b == ' ' || b == '\t') {
                    throw bad("a folded header line (obs-fold)");
                } else if (isTchar(b)) {
                    name.setLength(0);
                    name.append((char) b);
                    state = State.NAME;
                } else {
                    throw bad(b == ':' ? "an empty header name" : "an invalid character in a header name");
                }
            }
            case NAME -> {
                count();
                if (b == ':') {
                    // Only three names matter for framing, and only the two lengths' values are read.
                    framingName = trailers ? null : framingName(name);
                    if (framingName == FramingName.HOST) {
                        hosts++;
                    }
                    value.setLength(0);
                    state = State.VALUE;
                } else if (b == ' ' || b == '\t') {
                    throw bad("whitespace between a header name and the colon");
                } else if (isTchar(b)) {
                    // Kept up to one character past the longest framing name: enough to tell it is none.
                    if (name.length() <= MAX_FRAMING_NAME) {
                        name.append((char) b);
                    }
                } else {
                    throw bad("an invalid character in a header name");
                }
            }
            case VALUE -> {
                count();
                if (b == CR) {
                    state = State.VALUE_LF;
                } else if (isControl(b)) {
                    throw bad("a control character in a header value");
                } else if (framingName == FramingName.HOST && !isHostByte(b)) {
                    throw bad("a character no host name or address has, in the Host header");
                } else if (readsValue()) {
                    value.append((char) (b & 0xff));
                }
            }
            case VALUE_LF -> {
                count();
                if (b != LF) {
                    throw bad("a CR without LF in a header value");
                }
                field();
                state = State.NAME_START;
            }
            case END_LF -> {
                if (b != LF) {
                    throw bad("a CR without LF after the headers");
                }
                if (!trailers) {
                    // The timer stays scheduled for the next request on this connection.
                    awaitingHeaders = false;
                }
                state = trailers ? startRequest() : framing();
            }
            case CHUNK_SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    if (++chunkDigits > 16) {
                        throw bad("a chunk size of more than 16 hex digits");
                    }
                    chunkSize = chunkSize * 16 + digit;
                } else if (chunkDigits == 0) {
                    throw bad("a chunk size that is not a hex number");
                } else if (b == ';') {
                    chunkExtension = 0;
                    state = State.CHUNK_EXT;
                } else if (b == CR) {
                    state = State.CHUNK_SIZE_LF;
                } else {
                    throw bad("a chunk size followed by an invalid character");
                }
            }
            case CHUNK_EXT -> {
                if (b == CR) {
                    state = State.CHUNK_SIZE_LF;
                } else if (isControl(b) || ++chunkExtension > MAX_CHUNK_EXTENSION) {
                    throw bad("an invalid chunk extension");
                }
            }
            case CHUNK_SIZE_LF -> {
                if (b != LF) {
                    throw bad("a chunk size line not ended by CRLF");
                }
                if (chunkSize == 0) {
                    trailers = true;
                    headerBytes = 0;
                    headerCount = 0;
                    state = State.NAME_START;
                    return;
                }
                // Not all bytes go over the limit here: chunkSize is at most 16 hex digits, and negative
                // when it overflowed.
                bodyBytes += chunkSize;
                if (chunkSize < 0 || bodyBytes < 0 || bodyBytes > limits.maxBody()) {
                    throw tooLarge();
                }
                remaining = chunkSize;
                state = State.CHUNK_DATA;
            }
            case CHUNK_DATA_CR -> {
                if (b != CR) {
                    throw bad("chunk data longer than its size");
                }
                state = State.CHUNK_DATA_LF;
            }
            case CHUNK_DATA_LF -> {
                if (b != LF) {
                    throw bad("chunk data not ended by CRLF");
                }
                chunkSize = 0;
                chunkDigits = 0;
                state = State.CHUNK_SIZE;
            }
            default -> throw new IllegalStateException("state " + state);
        }
    }

    /** The header names that decide where a request ends, and how many Hosts it has. */
    private enum FramingName {
        HOST("host"), CONTENT_LENGTH("content-length"), TRANSFER_ENCODING("transfer-encoding");

        final String lowerCase;

        FramingName(String lowerCase) {
            this.lowerCase = lowerCase;
        }
    }

    /** Longest name of {@link FramingName}: a longer name is not kept whole (it is none of them). */
    private static final int MAX_FRAMING_NAME = "transfer-encoding".length();

    /** Whether the value of the header being read is read: Content-Length's and Transfer-Encoding's. */
    private boolean readsValue() {
        return framingName == FramingName.CONTENT_LENGTH || framingName == FramingName.TRANSFER_ENCODING;
    }

    /** Which framing header {@code n} names (ASCII, any case), or null; without a copy of it. */
    private static FramingName framingName(CharSequence n) {
        FramingName f = switch (n.length()) {
            case 4 -> FramingName.HOST;
            case 14 -> FramingName.CONTENT_LENGTH;
            case 17 -> FramingName.TRANSFER_ENCODING;
            default -> null;
        };
        return f != null && equalsIgnoreAsciiCase(f.lowerCase, n) ? f : null;
    }

    private static boolean equalsIgnoreAsciiCase(String lowerCase, CharSequence n) {
        for (int i = 0; i < lowerCase.length(); i++) {
            char c = n.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lowerCase.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private void requestLine() {
        String l = line.toString();
        int methodEnd = l.indexOf(' ');
        int versionStart = l.indexOf(' ', methodEnd + 1) + 1;
        if (methodEnd <= 0 || versionStart <= methodEnd + 2 || l.indexOf(' ', versionStart) >= 0) {
            throw bad("a request line that is not 'method target version'");
        }
        requestLine = l;
        targetStart = methodEnd + 1;
        targetEnd = versionStart - 1;
        if (!l.startsWith("HTTP/", versionStart)) {
            throw bad("a request line without an HTTP version");
        }
        http10 = l.length() - versionStart == 8 && l.endsWith("HTTP/1.0");
        headerBytes = 0;
        headerCount = 0;
    }

    /** The request line may take {@code more} characters, else 414 (RFC 9110 section 15.5.15). */
    private void checkLineRoom(int more) {
        if (line.length() + more > limits.maxRequestLine()) {
            throw new MalformedRequestException(HttpResponseStatus.REQUEST_URI_TOO_LONG,
                    "The request line is longer than this server accepts.");
        }
    }

    private void count() {
        count(1);
    }

    private void count(int bytes) {
        headerBytes += bytes;
        if (headerBytes > limits.maxHeaderSize()) {
            throw new MalformedRequestException(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "The request headers are larger than this server accepts.");
        }
    }

    private void field() {
        if (++headerCount > limits.maxHeaders()) {
            throw new MalformedRequestException(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "The request has more header fields than this server accepts.");
        }
        if (!readsValue()) {
            return;
        }
        String v = value.toString().strip();
        if (framingName == FramingName.CONTENT_LENGTH) {
            contentLengths++;
            contentLength = v;
        } else {
            transferEncodings++;
            transferEncoding = v;
        }
    }

    /** The end of a request's header section: where its body ends, or a refusal. */
    private State framing() {
        if (hosts > 1) {
            throw bad("more than one Host header");
        }
        if (transferEncodings > 0) {
            if (contentLengths > 0) {
                throw bad("both Content-Length and Transfer-Encoding");
            }
            if (transferEncodings > 1 || !transferEncoding.equalsIgnoreCase("chunked")) {
                throw bad("a Transfer-Encoding other than one 'chunked'");
            }
            if (http10) {
                throw bad("Transfer-Encoding in an HTTP/1.0 request");
            }
            chunkSize = 0;
            chunkDigits = 0;
            bodyBytes = 0;
            return State.CHUNK_SIZE;
        }
        if (contentLengths > 1) {
            throw bad("more than one Content-Length");
        }
        if (contentLengths == 1) {
            if (!CONTENT_LENGTH.matcher(contentLength).matches()) {
                throw bad("a Content-Length that is not a number");
            }
            remaining = Long.parseLong(contentLength);
            if (remaining > limits.maxBody()) {
                throw tooLarge();
            }
            if (remaining > 0) {
                return State.BODY;
            }
        }
        return startRequest();
    }

    private State startRequest() {
        line.setLength(0);
        trailers = false;
        http10 = false;
        contentLengths = 0;
        transferEncodings = 0;
        hosts = 0;
        contentLength = "";
        transferEncoding = "";
        requestLine = null;
        return State.LINE;
    }

    private HttpMethod methodForLog() {
        if (requestLine == null) {
            return HttpMethod.valueOf("-");
        }
        try {
            return HttpMethod.valueOf(requestLine.substring(0, targetStart - 1));
        } catch (IllegalArgumentException e) {
            return HttpMethod.valueOf("-");
        }
    }

    private MalformedRequestException tooLarge() {
        return new MalformedRequestException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "The request body is larger than this server accepts.");
    }

    private static MalformedRequestException bad(String what) {
        return new MalformedRequestException(HttpResponseStatus.BAD_REQUEST, "The request has " + what + ".");
    }

    /** CTL (RFC 5234): 0x00-0x1F and DEL; HTAB is allowed in values and checked apart where it is not. */
    private static boolean isControl(byte b) {
        return (b >= 0 && b < 0x20 && b != '\t') || b == 0x7f;
    }

    /**
     * A byte a Host value may have (RFC 9112 section 3.2, RFC 3986 section 3.2.2): a reg-name's
     * unreserved, pct-encoded and sub-delims characters, an IP literal's brackets and colons, the
     * port's colon, and the whitespace around the value.
     */
    private static boolean isHostByte(byte b) {
        if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
            return true;
        }
        return switch (b) {
            case '-', '.', '_', '~', '%', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '[', ']', ' ', '\t' -> true;
            default -> false;
        };
    }

    /** tchar (RFC 9110 section 5.6.2). */
    private static boolean isTchar(byte b) {
        if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
            return true;
        }
        return switch (b) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }
}
