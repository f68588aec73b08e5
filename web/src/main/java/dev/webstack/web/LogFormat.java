package dev.webstack.web;

import dev.webstack.common.config.AccessLogFormat;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An {@link AccessLogFormat} made ready to write lines with: the template's parts as an array of
 * kinds, its text as bytes, and the headers its {@code $http_NAME} and {@code $sent_http_NAME}
 * variables read, which {@link AccessLogHandler} collects into a {@link Logged} as the request
 * comes and its answer goes. Nothing is looked up by name while a line is written.
 */
final class LogFormat {
    private enum Kind {
        TEXT, REMOTE_ADDR, REMOTE_USER, TIME_LOCAL, TIME_ISO8601, MSEC, REQUEST, REQUEST_METHOD, REQUEST_URI, ARGS,
        SERVER_PROTOCOL, STATUS, BODY_BYTES_SENT, REQUEST_TIME, HOST, SCHEME, HTTP, SENT_HTTP, UPSTREAM_ADDR, UPSTREAM_STATUS,
        UPSTREAM_RESPONSE_TIME, CONNECTION, CONNECTION_REQUESTS, REQUEST_LENGTH, BYTES_SENT
    }

    private static final byte[] HTTP = "http".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTPS = "https".getBytes(StandardCharsets.US_ASCII);

    private final Kind[] kinds;
    private final byte[][] texts; // for TEXT
    private final int[] slots;    // for HTTP and SENT_HTTP: the index of the header's value
    private final AsciiString[] requestHeaders;
    private final AsciiString[] responseHeaders;
    private final boolean readsUser;
    private final boolean readsHost;
    private final boolean readsUpstream;
    private final boolean readsRequestLength;
    private final boolean readsBytesSent;
    private final AccessLogFormat.Escape escape;

    /** What a request's line is written from; filled by {@link AccessLogHandler}, one per connection, reused. */
    static final class Logged {
        private static final CharSequence[] NO_VALUES = {};

        long startNanos;
        io.netty.handler.codec.http.HttpMethod method;
        String uri;
        io.netty.handler.codec.http.HttpVersion version;
        String user; // the Basic user name the request gave, if any (nginx's $remote_user)
        String host; // the host the request is for, as the virtual hosts read it (nginx's $host); null for none
        int status;
        long bytes;
        long connection;         // the connection's serial number (nginx's $connection)
        long connectionRequests; // the requests it has carried, this one included (nginx's $connection_requests)
        long requestLength;      // nginx's $request_length: the request's line, headers and body, in bytes
        long bytesSent;          // nginx's $bytes_sent: the answer's bytes, headers included
        LogFormat format; // the format the request's headers were collected for; null: the log was off
        CharSequence[] requestHeaders = NO_VALUES;
        CharSequence[] responseHeaders = NO_VALUES;
        final UpstreamTrace upstream = new UpstreamTrace();
    }

    /**
     * The app servers a proxied request went to, as nginx's {@code $upstream_addr},
     * {@code $upstream_status} and {@code $upstream_response_time} list them: one entry per attempt
     * (a retry on another server adds one), written separated by {@code ", "}. Filled by the
     * {@link ProxyExchange}, only when the format writes one of them; empty for a request not proxied.
     */
    static final class UpstreamTrace {
        // Empty until the first attempt: a connection or stream that proxies nothing holds no arrays.
        private Object[] addresses = {};
        private int[] statuses = {}; // 0: none (written as -)
        private long[] micros = {};
        private int attempts;
        private long start;
        private boolean open;

        void reset() {
            attempts = 0;
            open = false;
        }

        /** An attempt on the server at {@code address} starts (the one before, if still open, failed: 502). */
        void begin(Object address) {
            end(502);
            if (attempts == addresses.length) {
                int length = Math.max(2, attempts * 2);
                addresses = Arrays.copyOf(addresses, length);
                statuses = Arrays.copyOf(statuses, length);
                micros = Arrays.copyOf(micros, length);
            }
            addresses[attempts] = address;
            statuses[attempts] = 0;
            attempts++;
            start = System.nanoTime();
            open = true;
        }

        /** The server answered the attempt with {@code code}. */
        void answered(int code) {
            if (open) {
                statuses[attempts - 1] = code;
            }
        }

        /** The attempt ended: with the server's status, else {@code failure} (0: none). */
        void end(int failure) {
            if (!open) {
                return;
            }
            open = false;
            if (statuses[attempts - 1] == 0) {
                statuses[attempts - 1] = failure;
            }
            micros[attempts - 1] = (System.nanoTime() - start) / 1_000;
        }
    }

    LogFormat(AccessLogFormat config) {
        this.escape = config.escape();
        List<AsciiString> request = new ArrayList<>();
        List<AsciiString> response = new ArrayList<>();
        int n = config.parts().size();
        kinds = new Kind[n];
        texts = new byte[n][];
        slots = new int[n];
        boolean user = false;
        boolean host = false;
        boolean upstream = false;
        boolean requestLength = false;
        boolean bytesSent = false;
        for (int i = 0; i < n; i++) {
            switch (config.parts().get(i)) {
                case AccessLogFormat.Text t -> {
                    kinds[i] = Kind.TEXT;
                    texts[i] = t.text().getBytes(StandardCharsets.UTF_8);
                }
                case AccessLogFormat.Variable v -> {
                    String name = v.name();
                    if (name.startsWith("http_")) {
                        kinds[i] = Kind.HTTP;
                        slots[i] = slot(request, header(name.substring(5)));
                    } else if (name.startsWith("sent_http_")) {
                        kinds[i] = Kind.SENT_HTTP;
                        slots[i] = slot(response, header(name.substring(10)));
                    } else if (name.equals("request_id")) {
                        // The id RequestIdHandler gave the request: its X-Request-Id header by then.
                        kinds[i] = Kind.HTTP;
                        slots[i] = slot(request, RequestIdHandler.X_REQUEST_ID);
                    } else {
                        kinds[i] = Kind.valueOf(name.toUpperCase(Locale.ROOT));
                        user |= kinds[i] == Kind.REMOTE_USER;
                        host |= kinds[i] == Kind.HOST;
                        upstream |= name.startsWith("upstream_");
                        requestLength |= kinds[i] == Kind.REQUEST_LENGTH;
                        bytesSent |= kinds[i] == Kind.BYTES_SENT;
                    }
                }
            }
        }
        this.requestHeaders = request.toArray(AsciiString[]::new);
        this.responseHeaders = response.toArray(AsciiString[]::new);
        this.readsUser = user;
        this.readsHost = host;
        this.readsUpstream = upstream;
        this.readsRequestLength = requestLength;
        this.readsBytesSent = bytesSent;
    }

    /** nginx's header variable name to the header's: {@code user_agent} is {@code user-agent}. */
    private static AsciiString header(String variable) {
        return AsciiString.cached(variable.replace('_', '-'));
    }

    private static int slot(List<AsciiString> names, AsciiString name) {
        int at = names.indexOf(name);
        if (at < 0) {
            names.add(name);
            at = names.size() - 1;
        }
        return at;
    }

    /** The request headers whose values the format writes, in slot order. */
    AsciiString[] requestHeaders() {
        return requestHeaders;
    }

    /** The response headers whose values the format writes, in slot order. */
    AsciiString[] responseHeaders() {
        return responseHeaders;
    }

    /** Whether the format writes what the app servers did ({@code $upstream_...}): then the proxy records it. */
    boolean readsUpstream() {
        return readsUpstream;
    }

    /** Whether the format writes {@code $request_length}, which the request's bytes are counted for. */
    boolean readsRequestLength() {
        return readsRequestLength;
    }

    /** Whether the format writes {@code $bytes_sent}, which the answer's bytes are counted for. */
    boolean readsBytesSent() {
        return readsBytesSent;
    }

    /** Whether the format writes the host the request is for ({@code $host}). */
    boolean readsHost() {
        return readsHost;
    }

    /** Whether the format writes the Basic user name ({@code $remote_user}), which costs a look at Authorization. */
    boolean readsUser() {
        return readsUser;
    }

    /**
     * Writes {@code e}'s line.
     *
     * @param client    the client's address, as text
     * @param tls       whether the request came over HTTPS
     * @param nowNanos  the end of the answer, a {@link System#nanoTime()} reading of this thread's
     */
    void write(LogLine line, Logged e, String client, boolean tls, long nowNanos) {
        for (int i = 0; i < kinds.length; i++) {
            switch (kinds[i]) {
                case TEXT -> line.raw(texts[i]);
                case REMOTE_ADDR -> value(line, client);
                case REMOTE_USER -> value(line, e.user);
                case TIME_LOCAL -> line.localTime(nowNanos);
                case TIME_ISO8601 -> line.isoTime(nowNanos);
                case MSEC -> line.msec(nowNanos);
                case REQUEST -> {
                    value(line, e.method.name());
                    line.raw(' ');
                    value(line, e.uri);
                    line.raw(' ');
                    value(line, e.version.text());
                }
                case REQUEST_METHOD -> value(line, e.method.name());
                case REQUEST_URI -> value(line, e.uri);
                case ARGS -> {
                    int q = e.uri.indexOf('?');
                    value(line, q < 0 || q == e.uri.length() - 1 ? null : e.uri.substring(q + 1));
                }
                case SERVER_PROTOCOL -> value(line, e.version.text());
                case STATUS -> line.number(e.status);
                case BODY_BYTES_SENT -> line.number(e.bytes);
                case REQUEST_TIME -> line.seconds(Math.max(0, nowNanos - e.startNanos) / 1_000);
                case HOST -> value(line, e.host);
                case SCHEME -> line.raw(tls ? HTTPS : HTTP);
                case HTTP -> value(line, e.requestHeaders[slots[i]]);
                case SENT_HTTP -> value(line, e.responseHeaders[slots[i]]);
                case UPSTREAM_ADDR, UPSTREAM_STATUS, UPSTREAM_RESPONSE_TIME -> upstream(line, kinds[i], e.upstream);
                case CONNECTION -> line.number(e.connection);
                case CONNECTION_REQUESTS -> line.number(e.connectionRequests);
                case REQUEST_LENGTH -> line.number(e.requestLength);
                case BYTES_SENT -> line.number(e.bytesSent);
            }
        }
    }

    /** One of the upstream lists: an entry per attempt, separated by ", "; none for a request not proxied. */
    private void upstream(LogLine line, Kind kind, UpstreamTrace trace) {
        if (trace.attempts == 0) {
            value(line, null);
            return;
        }
        for (int a = 0; a < trace.attempts; a++) {
            if (a > 0) {
                line.raw(',').raw(' ');
            }
            switch (kind) {
                case UPSTREAM_ADDR -> value(line, trace.addresses[a].toString());
                case UPSTREAM_STATUS -> {
                    if (trace.statuses[a] == 0) {
                        line.raw('-');
                    } else {
                        line.number(trace.statuses[a]);
                    }
                }
                default -> line.seconds(trace.micros[a]);
            }
        }
    }

    private void value(LogLine line, CharSequence v) {
        switch (escape) {
            case DEFAULT -> line.quoted(v);
            case JSON -> line.json(v);
            case NONE -> line.plain(v);
        }
    }
}
