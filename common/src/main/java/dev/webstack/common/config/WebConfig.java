package dev.webstack.common.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The web tier (the role nginx plays in the seed): each request answered as its location says
 * (static files from the codebase's public folder, redirects, fixed answers), everything else
 * proxied to the app servers.
 *
 * @param listen         HTTP address, default {@code 127.0.0.1:8080}
 * @param publicRoot     the codebase's public folder, the root of the default static locations
 * @param locations      what each request path is answered with (see {@link LocationConfig}); a path no
 *                       location matches is proxied to the app. Default: {@code /static/},
 *                       {@code = /favicon.ico} and {@code = /robots.txt} from {@code publicRoot}, then
 *                       {@code / -> proxy app}
 * @param mimeTypes      file extension (lower case, no dot) → Content-Type, on top of the built-in table
 * @param upstreams      app server addresses; empty means "the app servers of the app section"
 * @param connectTimeout time to open an upstream connection before answering 502, default 2s
 * @param readTimeout    time to wait for an upstream's response before answering 504, default 30s
 * @param idleTimeout    keep-alive idle time of a client connection, default 60s
 * @param upstreamKeepalive idle keep-alive connections kept to each app server per event loop (nginx's
 *                       {@code keepalive} in an {@code upstream} block, which counts per worker), default
 *                       {@value #DEFAULT_UPSTREAM_KEEPALIVE}; a connection released beyond that is closed
 * @param accessLog      the access log file; empty: no access log
 *                       ({@code access-log: off})
 * @param admin          the admin API (upstream pool changes: scale, drain, deploy), loopback only;
 *                       default: the listen host, port + 1 (127.0.0.1:8081)
 * @param limits         limits against slow and oversized requests
 * @param balancing      how requests are spread over the app servers, and how their health is judged
 * @param tls            HTTPS beside HTTP (see {@link Tls}); empty: HTTP only, the default
 * @param errorPages     status → a page of the public folder ({@code /404.html}) answered instead of the
 *                       web tier's own page for that status (nginx's {@code error_page}); default none
 * @param realIp         where the client's address comes from when the web tier is behind trusted proxies
 *                       (see {@link RealIp}); empty: the connection's own peer, the default
 * @param accessLogFormat what each access log line holds (nginx's {@code log_format}), default
 *                       {@link AccessLogFormat#DEFAULT}: combined, then the request time and id
 */
public record WebConfig(
        HostPort listen,
        Path publicRoot,
        List<LocationConfig> locations,
        Map<String, String> mimeTypes,
        List<HostPort> upstreams,
        Duration connectTimeout,
        Duration readTimeout,
        Duration idleTimeout,
        int upstreamKeepalive,
        Optional<Path> accessLog,
        HostPort admin,
        Limits limits,
        Balancing balancing,
        Optional<Tls> tls,
        Map<Integer, String> errorPages,
        Optional<RealIp> realIp,
        AccessLogFormat accessLogFormat) {

    /**
     * Limits of the web tier against slow and oversized requests, as {@code webstack.yml} sets them
     * ({@code web.header-timeout}, {@code web.max-body}, {@code web.max-connections},
     * {@code web.max-connections-per-client}, {@code web.lingering-time}, {@code web.lingering-timeout},
     * {@code web.max-request-line}, {@code web.max-header-size}, {@code web.max-headers},
     * {@code web.keepalive-requests}, {@code web.keepalive-time}). The parser
     * checks each key and reports a value out of range with its file and line; the checks here only
     * guard limits made in code.
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
     *                       it is closed (nginx's {@code lingering_time}). Default {@link #LINGERING_TIME},
     *                       30 s.
     * @param lingeringTimeout how long such a connection may send nothing before it is closed (nginx's
     *                       {@code lingering_timeout}). Default {@link #LINGERING_TIMEOUT}, 5 s; 0 closes
     *                       at once, as before an answer could be lost to a reset.
     * @param maxRequestLine longest request line in bytes (method, target, version; HTTP/2: the method
     *                       and path as that line); beyond it 414 (RFC 9112 section 3). Default
     *                       {@value #MAX_REQUEST_LINE}, nginx's {@code large_client_header_buffers} size.
     * @param maxHeaderSize  largest header section in bytes, the request line not counted (HTTP/2: the
     *                       header list, as {@code SETTINGS_MAX_HEADER_LIST_SIZE}); beyond it 431 (RFC
     *                       6585 section 5). Default {@value #MAX_HEADER_SIZE}.
     * @param maxHeaders     most header fields in a request; beyond it 431. Default {@value #MAX_HEADERS}.
     * @param keepaliveRequests most requests one client connection carries (nginx's
     *                       {@code keepalive_requests}): the answer to the last says {@code Connection:
     *                       close} and the connection closes after it; on HTTP/2, the stream that
     *                       reaches it is the last one the connection takes (GOAWAY), and the open
     *                       ones finish. Default {@value #KEEPALIVE_REQUESTS}, nginx's; 0 for no limit.
     * @param keepaliveTime  longest time one client connection serves requests (nginx's
     *                       {@code keepalive_time}): the first answer after it says {@code Connection:
     *                       close}; an HTTP/2 connection sends GOAWAY at that time, its open streams
     *                       finish. Default {@link #KEEPALIVE_TIME}, 1 h, nginx's; 0 for no limit.
     */
    public record Limits(Duration headerTimeout, int maxBody, int maxConnections, int maxConnectionsPerClient,
                         Duration lingeringTime, Duration lingeringTimeout, int maxRequestLine, int maxHeaderSize,
                         int maxHeaders, int keepaliveRequests, Duration keepaliveTime) {
        /** The largest request line and header section the config accepts (1 MiB each). */
        public static final int MAX_HEADER_BYTES = 1024 * 1024;

        /** The default {@link #headerTimeout()}. */
        public static final Duration HEADER_TIMEOUT = Duration.ofSeconds(10);
        /** The default {@link #maxBody()}, 10 MiB. */
        public static final int MAX_BODY = 10 * 1024 * 1024;
        /** The default {@link #maxConnections()}. */
        public static final int MAX_CONNECTIONS = 20_000;
        /** The default {@link #lingeringTime()}. */
        public static final Duration LINGERING_TIME = Duration.ofSeconds(30);
        /** The default {@link #lingeringTimeout()}. */
        public static final Duration LINGERING_TIMEOUT = Duration.ofSeconds(5);
        /** The default {@link #maxRequestLine()}, 8 KiB. */
        public static final int MAX_REQUEST_LINE = 8 * 1024;
        /** The default {@link #maxHeaderSize()}, 16 KiB. */
        public static final int MAX_HEADER_SIZE = 16 * 1024;
        /** The default {@link #maxHeaders()}. */
        public static final int MAX_HEADERS = 100;
        /** The default {@link #keepaliveRequests()}, nginx's. */
        public static final int KEEPALIVE_REQUESTS = 1000;
        /** The default {@link #keepaliveTime()}, nginx's. */
        public static final Duration KEEPALIVE_TIME = Duration.ofHours(1);

        /** The limits when {@code webstack.yml} sets none; no limit per client. */
        public static final Limits DEFAULTS = new Limits(HEADER_TIMEOUT, MAX_BODY, MAX_CONNECTIONS, 0, LINGERING_TIME,
                LINGERING_TIMEOUT, MAX_REQUEST_LINE, MAX_HEADER_SIZE, MAX_HEADERS, KEEPALIVE_REQUESTS,
                KEEPALIVE_TIME);

        public Limits {
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
            int most = MAX_HEADER_BYTES;
            if (maxRequestLine <= 0 || maxRequestLine > most || maxHeaderSize <= 0 || maxHeaderSize > most || maxHeaders <= 0) {
                throw new IllegalArgumentException("maxRequestLine, maxHeaderSize, maxHeaders: " + maxRequestLine + ", "
                        + maxHeaderSize + ", " + maxHeaders + " (expected: 1 to " + most + " bytes, > 0 fields)");
            }
            if (keepaliveRequests < 0 || keepaliveTime.isNegative()) {
                throw new IllegalArgumentException("keepaliveRequests, keepaliveTime: " + keepaliveRequests + ", " + keepaliveTime
                        + " (expected: >= 0)");
            }
        }

        /** These limits with the header timeout set. */
        public Limits withHeaderTimeout(Duration d) {
            return new Limits(d, maxBody, maxConnections, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                    maxRequestLine, maxHeaderSize, maxHeaders, keepaliveRequests, keepaliveTime);
        }

        /** These limits with the largest request body set, in bytes. */
        public Limits withMaxBody(int bytes) {
            return new Limits(headerTimeout, bytes, maxConnections, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                    maxRequestLine, maxHeaderSize, maxHeaders, keepaliveRequests, keepaliveTime);
        }

        /** These limits with the most client connections open at once set. */
        public Limits withMaxConnections(int n) {
            return new Limits(headerTimeout, maxBody, n, maxConnectionsPerClient, lingeringTime, lingeringTimeout,
                    maxRequestLine, maxHeaderSize, maxHeaders, keepaliveRequests, keepaliveTime);
        }

        /** These limits with the most connections open at once from one client address set. */
        public Limits withMaxConnectionsPerClient(int n) {
            return new Limits(headerTimeout, maxBody, maxConnections, n, lingeringTime, lingeringTimeout,
                    maxRequestLine, maxHeaderSize, maxHeaders, keepaliveRequests, keepaliveTime);
        }

        /** These limits with the lingering time and timeout set. */
        public Limits withLingering(Duration time, Duration timeout) {
            return new Limits(headerTimeout, maxBody, maxConnections, maxConnectionsPerClient, time, timeout,
                    maxRequestLine, maxHeaderSize, maxHeaders, keepaliveRequests, keepaliveTime);
        }

        /** These limits with the request line, header section and header count limits set. */
        public Limits withHeaderLimits(int requestLine, int headerSize, int headers) {
            return new Limits(headerTimeout, maxBody, maxConnections, maxConnectionsPerClient, lingeringTime,
                    lingeringTimeout, requestLine, headerSize, headers, keepaliveRequests, keepaliveTime);
        }

        /** These limits with the most requests one connection carries set (0: no limit). */
        public Limits withKeepaliveRequests(int n) {
            return new Limits(headerTimeout, maxBody, maxConnections, maxConnectionsPerClient, lingeringTime,
                    lingeringTimeout, maxRequestLine, maxHeaderSize, maxHeaders, n, keepaliveTime);
        }

        /** These limits with the longest time one connection serves requests set (zero: no limit). */
        public Limits withKeepaliveTime(Duration d) {
            return new Limits(headerTimeout, maxBody, maxConnections, maxConnectionsPerClient, lingeringTime,
                    lingeringTimeout, maxRequestLine, maxHeaderSize, maxHeaders, keepaliveRequests, d);
        }
    }

    /** How a request's app server is chosen. */
    public enum Balance { ROUND_ROBIN, WEIGHTED, LEAST_CONN, P2C }

    /**
     * @param balance       round-robin (default), weighted, least-conn or p2c (power of two choices)
     * @param checkInterval how often each app server's /-/ready is probed, default 1s; 0 turns active checks off
     * @param checkTimeout  how long a probe may take, default 1s
     * @param rise          passing probes that bring a down server back, default 2
     * @param riseNew       passing probes that admit a server added while running (scale, deploy), default 1
     * @param fall          failing probes that take a server out, default 2
     * @param ejectAfter    consecutive failed requests (connect error, reset, timeout) that take a server
     *                      out until probes bring it back, default 3; 0 turns passive ejection off
     * @param ejectWindow   the failed requests must fall within this time, default 10s
     * @param slowStart     time over which a server that comes back ramps up to its full share, default 10s
     */
    public record Balancing(Balance balance, Duration checkInterval, Duration checkTimeout, int rise, int riseNew, int fall,
                            int ejectAfter, Duration ejectWindow, Duration slowStart) {
        public static final Balancing DEFAULTS = new Balancing(Balance.ROUND_ROBIN, Duration.ofSeconds(1), Duration.ofSeconds(1),
                2, 1, 2, 3, Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    /**
     * HTTPS on a second address, the same site behind it (like an nginx server with
     * {@code listen 443 ssl} beside {@code listen 80}).
     *
     * @param listen       HTTPS address, default the HTTP listen host, port 8443
     * @param certificate  the certificate chain (PEM), the server's own first: the one a client gets
     *                     that names no host of {@code sni} in its handshake
     * @param key          its private key (PEM: PKCS#8, or PKCS#1 / SEC 1)
     * @param selfSigned   no certificate was configured: the web tier makes a self-signed one for the
     *                     site's names at these paths (under var/tls) when they do not exist yet
     * @param redirectHttp plain HTTP requests for the site are answered 301 to the same URL over
     *                     HTTPS (nginx's {@code return 301 https://$host$request_uri}), default false
     * @param hsts         {@code Strict-Transport-Security: max-age} on HTTPS answers; zero (the default) for none
     * @param sni          other names' certificates, chosen by the host name the client sends in its
     *                     handshake (SNI), as nginx's {@code ssl_certificate} per {@code server}; default none
     * @param verifyClient whether clients must show a certificate signed by {@code clientCa}
     *                     (nginx's {@code ssl_verify_client}), default {@link VerifyClient#OFF}
     * @param clientCa     the certificates (PEM) client certificates must chain to; present exactly
     *                     when {@code verifyClient} is not off
     * @param ocspResponse an OCSP response (DER) for {@code certificate}, stapled to every handshake
     *                     that serves it (nginx's {@code ssl_stapling_file}); read again on reload
     */
    public record Tls(HostPort listen, Path certificate, Path key, boolean selfSigned, boolean redirectHttp, Duration hsts,
                      List<SniCertificate> sni, VerifyClient verifyClient, Optional<Path> clientCa, Optional<Path> ocspResponse) {
        public Tls {
            sni = List.copyOf(sni);
            if ((verifyClient == VerifyClient.OFF) != clientCa.isEmpty()) {
                throw new IllegalArgumentException("a client CA goes with verify-client optional or required, and only then");
            }
        }

        /** HTTPS with one certificate, without client certificates or a stapled OCSP response. */
        public Tls(HostPort listen, Path certificate, Path key, boolean selfSigned, boolean redirectHttp, Duration hsts) {
            this(listen, certificate, key, selfSigned, redirectHttp, hsts, List.of(), VerifyClient.OFF, Optional.empty(), Optional.empty());
        }

        /** HTTPS with one certificate, without the redirect of plain HTTP, HSTS or client certificates. */
        public Tls(HostPort listen, Path certificate, Path key, boolean selfSigned) {
            this(listen, certificate, key, selfSigned, false, Duration.ZERO);
        }

        /** The same HTTPS with these certificates for other names. */
        public Tls withSni(List<SniCertificate> newSni) {
            return new Tls(listen, certificate, key, selfSigned, redirectHttp, hsts, newSni, verifyClient, clientCa, ocspResponse);
        }

        /** The same HTTPS asking clients for certificates signed by {@code ca} ({@code mode} not off). */
        public Tls withClientCertificates(VerifyClient mode, Path ca) {
            return new Tls(listen, certificate, key, selfSigned, redirectHttp, hsts, sni, mode, Optional.of(ca), ocspResponse);
        }

        /** The same HTTPS stapling the OCSP response in {@code file} to the default certificate's handshakes. */
        public Tls withOcspResponse(Path file) {
            return new Tls(listen, certificate, key, selfSigned, redirectHttp, hsts, sni, verifyClient, clientCa, Optional.of(file));
        }
    }

    /**
     * A certificate served to clients that ask for one of {@code names} (SNI).
     *
     * @param names       host names in lower case, each exact ({@code shop.example.com}) or a wildcard for
     *                    one more label ({@code *.example.com})
     * @param certificate the certificate chain (PEM)
     * @param key         its private key (PEM)
     * @param ocspResponse an OCSP response (DER) for it, stapled to its handshakes
     */
    public record SniCertificate(List<String> names, Path certificate, Path key, Optional<Path> ocspResponse) {
        public SniCertificate {
            names = List.copyOf(names);
        }

        /** Without a stapled OCSP response. */
        public SniCertificate(List<String> names, Path certificate, Path key) {
            this(names, certificate, key, Optional.empty());
        }
    }

    /** Client certificates: not asked for; asked for and checked when shown; or required (mutual TLS). */
    public enum VerifyClient { OFF, OPTIONAL, REQUIRED }

    /**
     * The client's address when the web tier is behind proxies it trusts (a load balancer), as
     * nginx's realip module: for connections from {@code from}, the address the proxy gives is
     * the client's, for the access log, {@code allow}/{@code deny} and {@code limit-requests}.
     *
     * @param from   the proxies trusted to say who the client is
     * @param source where they say it
     */
    public record RealIp(List<AddressRange> from, Source source) {
        public RealIp {
            from = List.copyOf(from);
        }
    }

    /**
     * Where trusted proxies put the client's address: the last address of {@code X-Forwarded-For}
     * that is not a trusted proxy's (nginx's {@code real_ip_header X-Forwarded-For} with
     * {@code real_ip_recursive on}), or the PROXY protocol header (v1 or v2) every connection then
     * starts with (nginx's {@code listen ... proxy_protocol}, HAProxy's {@code send-proxy}).
     */
    public enum Source { X_FORWARDED_FOR, PROXY_PROTOCOL }

    /** Idle connections kept to each app server per event loop unless {@code web.upstream-keepalive} says otherwise. */
    public static final int DEFAULT_UPSTREAM_KEEPALIVE = 64;
    /** The request paths served from the public folder when {@code web.static} and {@code web.locations} are absent. */
    public static final List<String> DEFAULT_STATIC_PATHS = List.of("/static/", "/favicon.ico", "/robots.txt");
    private static final Pattern EXTENSION = Pattern.compile("[a-z0-9][a-z0-9_+-]*");
    /** A host name as a location's {@code host:} is written, or {@code *.} and a domain (one more label). */
    private static final Pattern HOST_NAME = Pattern.compile("(\\*\\.)?(" + LocationConfig.HOST.pattern() + ")");
    private static final Pattern MEDIA_TYPE = Pattern.compile("[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *;.*)?");

    public WebConfig {
        if (upstreamKeepalive < 0) {
            throw new IllegalArgumentException("upstreamKeepalive: " + upstreamKeepalive + " (expected: >= 0)");
        }
        errorPages = Map.copyOf(errorPages);
        locations = List.copyOf(locations);
        mimeTypes = Map.copyOf(mimeTypes);
        upstreams = List.copyOf(upstreams);
    }

    /** A web tier logging in the default format. */
    public WebConfig(HostPort listen, Path publicRoot, List<LocationConfig> locations, Map<String, String> mimeTypes,
                     List<HostPort> upstreams, Duration connectTimeout, Duration readTimeout, Duration idleTimeout,
                     int upstreamKeepalive, Optional<Path> accessLog, HostPort admin, Limits limits, Balancing balancing,
                     Optional<Tls> tls, Map<Integer, String> errorPages, Optional<RealIp> realIp) {
        this(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout, upstreamKeepalive,
                accessLog, admin, limits, balancing, tls, errorPages, realIp, AccessLogFormat.DEFAULT);
    }

    /** The same tier logging in {@code newFormat}. */
    public WebConfig withAccessLogFormat(AccessLogFormat newFormat) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, tls, errorPages, realIp, newFormat);
    }

    /** A web tier without error pages of its own, serving its peers' addresses as the clients'. */
    public WebConfig(HostPort listen, Path publicRoot, List<LocationConfig> locations, Map<String, String> mimeTypes,
                     List<HostPort> upstreams, Duration connectTimeout, Duration readTimeout, Duration idleTimeout,
                     Optional<Path> accessLog, HostPort admin, Limits limits, Balancing balancing, Optional<Tls> tls) {
        this(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout, DEFAULT_UPSTREAM_KEEPALIVE,
                accessLog, admin, limits, balancing, tls, Map.of(), Optional.empty());
    }

    /**
     * A web tier with the default limits and balancing whose admin API listens beside it, on the
     * next port, serving {@code staticPaths} (a prefix ending in '/', else an exact path) from
     * {@code publicRoot} and proxying the rest.
     */
    public WebConfig(HostPort listen, Path publicRoot, List<String> staticPaths, List<HostPort> upstreams,
                     Duration connectTimeout, Duration readTimeout, Duration idleTimeout, Path accessLog) {
        this(listen, publicRoot, staticPaths, upstreams, connectTimeout, readTimeout, idleTimeout, accessLog,
                listen.withPort(listen.port() == 0 ? 0 : listen.port() + 1), Limits.DEFAULTS, Balancing.DEFAULTS);
    }

    /** A web tier serving {@code staticPaths} from {@code publicRoot}, as the older {@code web.static} list did. */
    public WebConfig(HostPort listen, Path publicRoot, List<String> staticPaths, List<HostPort> upstreams,
                     Duration connectTimeout, Duration readTimeout, Duration idleTimeout, Path accessLog, HostPort admin,
                     Limits limits, Balancing balancing) {
        this(listen, publicRoot, staticLocations(staticPaths, publicRoot), Map.of(), upstreams, connectTimeout, readTimeout,
                idleTimeout, Optional.of(accessLog), admin, limits, balancing, Optional.empty());
    }

    /** The same tier listening for plain HTTP on {@code newListen}. */
    public WebConfig withListen(HostPort newListen) {
        return new WebConfig(newListen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, tls, errorPages, realIp, accessLogFormat);
    }

    /** The same tier pointed at other upstreams (e.g. {@code webstack web --upstream host:port}). */
    public WebConfig withUpstreams(List<HostPort> newUpstreams) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, newUpstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, tls, errorPages, realIp, accessLogFormat);
    }

    /** The same tier with other locations and MIME types (what a reload most often changes). */
    public WebConfig withLocations(List<LocationConfig> newLocations, Map<String, String> newMimeTypes) {
        return new WebConfig(listen, publicRoot, newLocations, newMimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, tls, errorPages, realIp, accessLogFormat);
    }

    /** The same tier with HTTPS as {@code newTls} says (empty: HTTP only). */
    public WebConfig withTls(Optional<Tls> newTls) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, newTls, errorPages, realIp, accessLogFormat);
    }

    /** The same tier answering these statuses with these pages of the public folder. */
    public WebConfig withErrorPages(Map<Integer, String> newErrorPages) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, tls, newErrorPages, realIp, accessLogFormat);
    }

    /** The same tier taking the client's address from trusted proxies as {@code newRealIp} says. */
    public WebConfig withRealIp(Optional<RealIp> newRealIp) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, balancing, tls, errorPages, newRealIp, accessLogFormat);
    }

    /** The same tier with other limits (body size, timeouts, connections). */
    public WebConfig withLimits(Limits newLimits) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, newLimits, balancing, tls, errorPages, realIp, accessLogFormat);
    }

    /** The same tier balancing its app servers as {@code newBalancing} says. */
    public WebConfig withBalancing(Balancing newBalancing) {
        return new WebConfig(listen, publicRoot, locations, mimeTypes, upstreams, connectTimeout, readTimeout, idleTimeout,
                upstreamKeepalive, accessLog, admin, limits, newBalancing, tls, errorPages, realIp, accessLogFormat);
    }

    /** The static paths as locations, then {@code / -> proxy app}, which the web tier does anyway with what no location matches. */
    private static List<LocationConfig> staticLocations(List<String> paths, Path root) {
        List<LocationConfig> out = new ArrayList<>(paths.stream().map(p -> LocationConfig.staticPath(p, root)).toList());
        if (!paths.contains("/")) {
            out.add(LocationConfig.proxyAll());
        }
        return out;
    }

    static WebConfig from(ConfigNode node, Path base, Path varDir, SiteConfig site) {
        node.allowOnly("listen", "public", "static", "locations", "mime-types", "upstreams", "connect-timeout", "read-timeout", "idle-timeout", "upstream-keepalive", "access-log", "admin",
                "header-timeout", "max-body", "max-connections", "max-connections-per-client",
                "max-request-line", "max-header-size", "max-headers", "keepalive-requests", "keepalive-time",
                "lingering-time", "lingering-timeout", "balance", "health-check", "passive-ejection", "slow-start", "tls",
                "error-pages", "real-ip", "access-log-format", "access-log-escape");
        List<String> staticPaths = node.list("static").stream().map(n -> {
            String p = n.text().trim();
            if (!p.startsWith("/")) {
                throw n.error("'" + p + "' must start with '/'");
            }
            return p;
        }).toList();
        if (staticPaths.isEmpty() && node.child("static").isEmpty()) {
            staticPaths = DEFAULT_STATIC_PATHS;
        }
        Path publicRoot = base.resolve(node.string("public", "site/public")).normalize();
        List<LocationConfig> locations;
        if (node.child("locations").isPresent()) {
            if (node.child("static").isPresent()) {
                throw node.child("static").orElseThrow().error("use either static or locations (a static path is a location with root:)");
            }
            locations = LocationConfig.listFrom(node.list("locations"), base, site);
        } else {
            locations = staticLocations(staticPaths, publicRoot);
        }
        List<HostPort> upstreams = node.list("upstreams").stream().map(n -> {
            try {
                return HostPort.parse(n.text());
            } catch (IllegalArgumentException e) {
                throw n.error(e.getMessage());
            }
        }).toList();
        HostPort listen = node.hostPort("listen", "127.0.0.1:8080");
        HostPort admin = node.hostPort("admin", listen.withPort(listen.port() + 1).toString());
        if (!admin.host().startsWith("127.") && !admin.host().equals("::1") && !admin.host().equals("localhost")) {
            throw node.child("admin").orElseThrow().error("'" + admin + "' (expected: a loopback address; the admin API changes the upstream pool)");
        }
        return new WebConfig(
                listen,
                publicRoot,
                locations,
                mimeTypes(node),
                upstreams,
                node.duration("connect-timeout", Duration.ofSeconds(2)),
                node.duration("read-timeout", Duration.ofSeconds(30)),
                node.duration("idle-timeout", Duration.ofSeconds(60)),
                node.integer("upstream-keepalive", DEFAULT_UPSTREAM_KEEPALIVE, 0, 100_000),
                accessLog(node, base, varDir),
                admin,
                limits(node),
                balancing(node),
                tls(node, base, varDir, listen),
                errorPages(node, publicRoot),
                realIp(node),
                accessLogFormat(node));
    }

    /** {@code access-log-format} (a preset or a template) and {@code access-log-escape}. */
    private static AccessLogFormat accessLogFormat(ConfigNode node) {
        AccessLogFormat.Escape escape;
        try {
            escape = AccessLogFormat.escape(node.string("access-log-escape", "default"));
        } catch (IllegalArgumentException e) {
            throw node.child("access-log-escape").orElseThrow().error(e.getMessage());
        }
        try {
            return AccessLogFormat.parse(node.string("access-log-format", "webstack"), escape);
        } catch (IllegalArgumentException e) {
            throw node.child("access-log-format").orElseThrow().error(e.getMessage());
        }
    }

    /** {@code real-ip}: absent for none; else {@code from} (address blocks, at least one) and {@code source}. */
    private static Optional<RealIp> realIp(ConfigNode node) {
        if (node.child("real-ip").isEmpty()) {
            return Optional.empty();
        }
        ConfigNode section = node.section("real-ip").allowOnly("from", "source");
        List<AddressRange> from = AddressRange.listFrom(section, "from");
        if (from.isEmpty()) {
            throw section.error("from: the proxies trusted to say who the client is (e.g. [10.0.0.0/8])");
        }
        return Optional.of(new RealIp(from, section.enumValue("source", Source.X_FORWARDED_FOR)));
    }

    /**
     * {@code error-pages}: status (400-599) → the path of a file in the public folder, which must be
     * there now (so that a typo is reported with its line) and is served as it is when answered.
     */
    private static Map<Integer, String> errorPages(ConfigNode node, Path publicRoot) {
        Map<Integer, String> pages = new java.util.TreeMap<>();
        for (Map.Entry<String, ConfigNode> e : node.section("error-pages").children().entrySet()) {
            ConfigNode page = e.getValue();
            int status;
            try {
                status = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException ex) {
                status = -1;
            }
            if (status < 400 || status > 599) {
                throw page.error("'" + e.getKey() + "' (expected: an error status, 400-599)");
            }
            String path = page.text().trim();
            if (!path.startsWith("/") || path.endsWith("/") || path.contains("\\") || path.contains("//")
                    || java.util.Arrays.asList(path.split("/")).contains("..") || path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw page.error("'" + path + "' (expected: the path of a file in the public folder, e.g. /404.html)");
            }
            Path file = publicRoot.resolve(path.substring(1)).normalize();
            if (!Files.isRegularFile(file)) {
                throw page.error(file + ": no such file in the public folder " + publicRoot);
            }
            pages.put(status, path);
        }
        return pages;
    }

    /**
     * {@code tls}: absent or {@code off} for none; else {@code listen}, and {@code certificate} with
     * {@code key} (both or neither; neither: self-signed under {@code var/tls}), {@code redirect-http},
     * {@code hsts}, {@code sni} (other names' certificates) and {@code verify-client} with
     * {@code client-ca}. Configured files must be readable now, so that a wrong path is reported with
     * its line, not at start.
     */
    private static Optional<Tls> tls(ConfigNode node, Path base, Path varDir, HostPort httpListen) {
        Optional<ConfigNode> child = node.child("tls");
        if (child.isEmpty() || (!child.get().isMap() && child.get().text().trim().equals("off"))) {
            return Optional.empty();
        }
        ConfigNode tls = node.section("tls").allowOnly("listen", "certificate", "key", "redirect-http", "hsts", "sni",
                "verify-client", "client-ca", "ocsp-response");
        HostPort listen = tls.hostPort("listen", httpListen.withPort(httpListen.port() == 0 ? 0 : 8443).toString());
        if (listen.equals(httpListen) && listen.port() != 0) {
            throw tls.child("listen").orElseThrow().error("'" + listen + "' is web.listen's address (expected: another port)");
        }
        Optional<ConfigNode> cert = tls.child("certificate");
        Optional<ConfigNode> key = tls.child("key");
        if (cert.isPresent() != key.isPresent()) {
            throw (cert.isPresent() ? cert : key).orElseThrow().error("give both certificate and key, or neither (a self-signed pair is made)");
        }
        boolean redirect = tls.bool("redirect-http", false);
        Duration hsts = tls.duration("hsts", Duration.ZERO);
        VerifyClient verify = tls.enumValue("verify-client", VerifyClient.OFF);
        Optional<ConfigNode> ca = tls.child("client-ca");
        if (verify != VerifyClient.OFF && ca.isEmpty()) {
            throw tls.child("verify-client").orElseThrow().error("needs client-ca: the certificates (PEM) client certificates are checked against");
        }
        if (verify == VerifyClient.OFF && ca.isPresent()) {
            throw ca.get().error("has no effect without verify-client: optional or required");
        }
        Optional<Path> clientCa = ca.map(n -> n.readableFile(base));
        List<SniCertificate> sni = sni(tls, base);
        if (cert.isEmpty()) {
            Path dir = varDir.resolve("tls");
            if (tls.child("ocsp-response").isPresent()) {
                throw tls.child("ocsp-response").orElseThrow().error("goes with a certificate of a CA (certificate and key), not the self-signed one");
            }
            return Optional.of(new Tls(listen, dir.resolve("web.crt"), dir.resolve("web.key"), true, redirect, hsts, sni, verify, clientCa,
                    Optional.empty()));
        }
        return Optional.of(new Tls(listen, cert.get().readableFile(base), key.get().readableFile(base), false, redirect, hsts, sni, verify,
                clientCa, tls.child("ocsp-response").map(n -> n.readableFile(base))));
    }

    /** {@code tls.sni}: a list of {@code names} (one or a list), {@code certificate} and {@code key}; no name twice. */
    private static List<SniCertificate> sni(ConfigNode tls, Path base) {
        List<SniCertificate> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConfigNode entry : tls.list("sni")) {
            entry.allowOnly("names", "certificate", "key", "ocsp-response");
            List<ConfigNode> nameNodes = entry.child("names").filter(n -> !n.isList()).isPresent()
                    ? List.of(entry.child("names").orElseThrow()) : entry.list("names");
            if (nameNodes.isEmpty()) {
                throw entry.error("names: the host names this certificate is for (e.g. [shop.example.com, \"*.shop.example.com\"])");
            }
            List<String> names = new ArrayList<>();
            for (ConfigNode n : nameNodes) {
                String name = n.text().trim().toLowerCase(Locale.ROOT);
                if (name.endsWith(".")) {
                    name = name.substring(0, name.length() - 1);
                }
                if (!HOST_NAME.matcher(name).matches()) {
                    throw n.error("'" + n.text().trim() + "' (expected: a host name, or *. and a domain for one more label)");
                }
                if (!seen.add(name)) {
                    throw n.error("'" + name + "' is named by another sni entry");
                }
                names.add(name);
            }
            ConfigNode certificate = entry.child("certificate").orElseThrow(() -> entry.error("certificate: the chain (PEM) is missing"));
            ConfigNode key = entry.child("key").orElseThrow(() -> entry.error("key: the private key (PEM) is missing"));
            out.add(new SniCertificate(names, certificate.readableFile(base), key.readableFile(base),
                    entry.child("ocsp-response").map(n -> n.readableFile(base))));
        }
        return out;
    }

    /** {@code access-log}: a file (relative to the config's folder), or {@code off}. */
    private static Optional<Path> accessLog(ConfigNode node, Path base, Path varDir) {
        String value = node.string("access-log", varDir.resolve("log/web-access.log").toString());
        return value.equals("off") ? Optional.empty() : Optional.of(base.resolve(value).normalize());
    }

    private static Map<String, String> mimeTypes(ConfigNode node) {
        Map<String, String> types = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigNode> e : node.section("mime-types").children().entrySet()) {
            String ext = e.getKey().toLowerCase(Locale.ROOT);
            ConfigNode entry = e.getValue();
            if (!EXTENSION.matcher(ext).matches()) {
                throw entry.error("'" + ext + "' (expected: a lower-case file extension without the dot, e.g. md)");
            }
            String type = entry.text().trim();
            if (!MEDIA_TYPE.matcher(type).matches() || type.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw entry.error("'" + type + "' (expected: a media type such as text/markdown; charset=utf-8)");
            }
            types.put(ext, type);
        }
        return types;
    }

    private static Limits limits(ConfigNode node) {
        Limits d = Limits.DEFAULTS;
        Duration header = node.duration("header-timeout", d.headerTimeout());
        if (header.isZero()) {
            throw node.child("header-timeout").orElseThrow().error("must be more than 0");
        }
        return new Limits(header, node.integer("max-body", d.maxBody(), 0, Integer.MAX_VALUE),
                node.integer("max-connections", d.maxConnections(), 1, 1_000_000),
                node.integer("max-connections-per-client", d.maxConnectionsPerClient(), 0, 1_000_000),
                node.duration("lingering-time", d.lingeringTime()), node.duration("lingering-timeout", d.lingeringTimeout()),
                node.integer("max-request-line", d.maxRequestLine(), 256, Limits.MAX_HEADER_BYTES),
                node.integer("max-header-size", d.maxHeaderSize(), 1024, Limits.MAX_HEADER_BYTES),
                node.integer("max-headers", d.maxHeaders(), 8, 10_000),
                node.integer("keepalive-requests", d.keepaliveRequests(), 0, Integer.MAX_VALUE),
                node.duration("keepalive-time", d.keepaliveTime()));
    }

    private static Balancing balancing(ConfigNode node) {
        Balancing d = Balancing.DEFAULTS;
        ConfigNode check = node.section("health-check").allowOnly("interval", "timeout", "rise", "rise-new", "fall");
        ConfigNode eject = node.section("passive-ejection").allowOnly("fails", "window");
        Duration timeout = check.duration("timeout", d.checkTimeout());
        if (timeout.isZero()) {
            throw check.child("timeout").orElseThrow().error("must be more than 0");
        }
        return new Balancing(
                node.enumValue("balance", d.balance()),
                check.duration("interval", d.checkInterval()),
                timeout,
                check.integer("rise", d.rise(), 1, 100),
                check.integer("rise-new", d.riseNew(), 1, 100),
                check.integer("fall", d.fall(), 1, 100),
                eject.integer("fails", d.ejectAfter(), 0, 1000),
                eject.duration("window", d.ejectWindow()),
                node.duration("slow-start", d.slowStart()));
    }
}
