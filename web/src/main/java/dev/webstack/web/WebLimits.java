package dev.webstack.web;

import java.time.Duration;

/**
 * Limits of the web tier, as {@code webstack.yml} sets them ({@link #from}); {@link #defaults()}
 * are the same values as the config's defaults.
 *
 * @param headerTimeout  time from the first byte of a request to the end of its header section;
 *                       beyond it 408 and the connection is closed (slowloris). Default
 *                       {@link #HEADER_TIMEOUT}, 10 s. Independent of the keep-alive idle time,
 *                       which runs between requests.
 * @param maxBody        largest request body in bytes, declared or chunked; beyond it 413 (RFC 9110
 *                       section 15.5.14). Default {@value #MAX_BODY}.
 * @param maxConnections most client connections open at once; a connection beyond it is closed as
 *                       soon as it is accepted. Default {@value #MAX_CONNECTIONS}.
 * @param maxConnectionsPerClient most connections open at once from one client address (IPv6: one
 *                       /64), as nginx's {@code limit_conn}; a connection beyond it is closed as
 *                       soon as it is accepted. 0, the default, for no such limit.
 * @param lingeringTime  how long, at most, a connection the server closes while its client may still
 *                       be sending (a refused request, a body not read) is read and discarded before
 *                       it is closed ({@link LingeringClose}; nginx's {@code lingering_time}). Default
 *                       {@link #LINGERING_TIME}, 30 s.
 * @param lingeringTimeout how long such a connection may send nothing before it is closed (nginx's
 *                       {@code lingering_timeout}). Default {@link #LINGERING_TIMEOUT}, 5 s; 0 closes
 *                       at once, as before an answer could be lost to a reset.
 * @param maxRequestLine longest request line in bytes (method, target, version; HTTP/2: the method
 *                       and path as that line); beyond it 414 (RFC 9112 section 3). Default {@value #MAX_REQUEST_LINE}, nginx's
 *                       {@code large_client_header_buffers} size.
 * @param maxHeaderSize  largest header section in bytes, the request line not counted (HTTP/2: the
 *                       header list, as {@code SETTINGS_MAX_HEADER_LIST_SIZE}); beyond it 431 (RFC
 *                       6585 section 5). Default {@value #MAX_HEADER_SIZE}.
 * @param maxHeaders     most header fields in a request; beyond it 431. Default {@value #MAX_HEADERS}.
 */
public record WebLimits(Duration headerTimeout, int maxBody, int maxConnections, int maxConnectionsPerClient,
                        Duration lingeringTime, Duration lingeringTimeout, int maxRequestLine, int maxHeaderSize,
                        int maxHeaders) {
    public static final Duration HEADER_TIMEOUT = Duration.ofSeconds(10);
    public static final int MAX_BODY = 10 * 1024 * 1024;
    public static final int MAX_CONNECTIONS = 20_000;
    public static final Duration LINGERING_TIME = Duration.ofSeconds(30);
    public static final Duration LINGERING_TIMEOUT = Duration.ofSeconds(5);
    public static final int MAX_REQUEST_LINE = 8 * 1024;
    public static final int MAX_HEADER_SIZE = 16 * 1024;
    public static final int MAX_HEADERS = 100;

    public WebLimits {
        if (headerTimeout.isNegative() || headerTimeout.isZero()) {
            throw new IllegalArgumentException("headerTimeout: " + headerTimeout + " (expected: > 0)");
        }
        if (maxBody < 0) {
            throw new IllegalArgumentException("maxBody: " + maxBody + " (expected: >= 0)");
        }
        if (maxConnections <= 0) {
            throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: > 0)");
        }
        if (maxConnectionsPerClient < 0) {
            throw new IllegalArgumentException("maxConnectionsPerClient: " + maxConnectionsPerClient + " (expected: >= 0)");
        }
        if (lingeringTime.isNegative() || lingeringTimeout.isNegative()) {
            throw new IllegalArgumentException("lingeringTime, lingeringTimeout: " + lingeringTime + ", " + lingeringTimeout
                    + " (expected: >= 0)");
        }
        int most = dev.webstack.common.config.WebConfig.Limits.MAX_HEADER_BYTES;
        if (maxRequestLine <= 0 || maxRequestLine > most || maxHeaderSize <= 0 || maxHeaderSize > most || maxHeaders <= 0) {
            throw new IllegalArgumentException("maxRequestLine, maxHeaderSize, maxHeaders: " + maxRequestLine + ", "
                    + maxHeaderSize + ", " + maxHeaders + " (expected: 1 to " + most + " bytes, > 0 fields)");
        }
    }

    /**
     * The limits {@code webstack.yml} sets: web.header-timeout, web.max-body, web.max-connections,
     * web.max-connections-per-client, web.lingering-time, web.lingering-timeout,
     * web.max-request-line, web.max-header-size, web.max-headers.
     */
    public static WebLimits from(dev.webstack.common.config.WebConfig.Limits limits) {
        return new WebLimits(limits.headerTimeout(), limits.maxBody(), limits.maxConnections(), limits.maxConnectionsPerClient(),
                limits.lingeringTime(), limits.lingeringTimeout(), limits.maxRequestLine(), limits.maxHeaderSize(),
                limits.maxHeaders());
    }

    public static WebLimits defaults() {
        return new WebLimits(HEADER_TIMEOUT, MAX_BODY, MAX_CONNECTIONS, 0, LINGERING_TIME, LINGERING_TIMEOUT,
                MAX_REQUEST_LINE, MAX_HEADER_SIZE, MAX_HEADERS);
    }

    public WebLimits withHeaderTimeout(Duration d) {
        return new WebLimits(d, maxBody, maxConnections, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                maxRequestLine, maxHeaderSize, maxHeaders);
    }

    public WebLimits withMaxBody(int bytes) {
        return new WebLimits(headerTimeout, bytes, maxConnections, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                maxRequestLine, maxHeaderSize, maxHeaders);
    }

    public WebLimits withMaxConnections(int n) {
        return new WebLimits(headerTimeout, maxBody, n, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                maxRequestLine, maxHeaderSize, maxHeaders);
    }

    public WebLimits withMaxConnectionsPerClient(int n) {
        return new WebLimits(headerTimeout, maxBody, maxConnections, n, lingeringTime, lingeringTimeout,
                maxRequestLine, maxHeaderSize, maxHeaders);
    }

    public WebLimits withLingering(Duration time, Duration timeout) {
        return new WebLimits(headerTimeout, maxBody, maxConnections, maxConnectionsPerClient, time, timeout,
                maxRequestLine, maxHeaderSize, maxHeaders);
    }

    public WebLimits withHeaderLimits(int requestLine, int headerSize, int headers) {
        return new WebLimits(headerTimeout, maxBody, maxConnections, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                requestLine, headerSize, headers);
    }
}
