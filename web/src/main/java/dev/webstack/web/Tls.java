package dev.webstack.web;

import dev.webstack.common.config.SiteConfig;
import dev.webstack.common.config.WebConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS for the web tier ({@code web.tls}): the server's {@link SslContext}, and which connections
 * came in over it.
 *
 * <p>A connection accepted on the HTTPS address carries the {@link #SECURE} attribute (set by the
 * server bootstrap); {@link ClientPipeline} then puts an {@code SslHandler} in front, and after the
 * handshake the HTTP/1.1 handlers plain HTTP has, or HTTP/2's, which run the same ones per stream.
 * What differs after that is only what names the scheme: the apex
 * redirect, {@code $scheme} in redirect locations, {@code X-Forwarded-Proto} to the app, and how
 * a large file goes out (read into buffers and encrypted, since {@code sendfile} cannot encrypt).
 *
 * <p>TLS 1.3 and 1.2, on BoringSSL (netty-tcnative, linked statically) where its native library
 * loads, else the JDK's TLS. ALPN offers {@code h2} and {@code http/1.1} ({@link Negotiation}); a
 * client that names neither gets HTTP/1.1.
 */
final class Tls {
    /** Set on the connections accepted on the HTTPS address. */
    static final AttributeKey<Boolean> SECURE = AttributeKey.valueOf("webstack.tls");
    private static final Logger log = LoggerFactory.getLogger(Tls.class);
    private static final String PKCS8_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String PKCS8_END = "-----END PRIVATE KEY-----";
    /** Time a connection has to send its ClientHello when SNI picks the certificate (an SslHandler's handshake default). */
    private static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;

    private Tls() {}

    /** Set on an HTTPS connection after the handshake when {@code web.tls.verify-client} asked for a certificate. */
    private static final AttributeKey<ClientCertificate> CLIENT_CERTIFICATE = AttributeKey.valueOf("webstack.tls.client");

    /**
     * What a client showed when asked for a certificate ({@code web.tls.verify-client}), as the app
     * server is told in {@code X-SSL-Client-Verify} and {@code X-SSL-Client-S-DN} (named after
     * nginx's {@code $ssl_client_verify} and {@code $ssl_client_s_dn}).
     *
     * @param verify  {@code SUCCESS}: a certificate that chains to {@code client-ca} (any other
     *                fails the handshake); {@code NONE}: none shown ({@code verify-client: optional})
     * @param subject its subject's distinguished name (RFC 4514, non-ASCII as {@code \\xx} escapes); null with NONE
     */
    record ClientCertificate(AsciiString verify, AsciiString subject) {
        static final ClientCertificate NONE = new ClientCertificate(AsciiString.cached("NONE"), null);
        private static final AsciiString SUCCESS = AsciiString.cached("SUCCESS");

        /** What the handshake of {@code engine} settled; null when it asked for no certificate. */
        static ClientCertificate of(SSLEngine engine) {
            if (!engine.getNeedClientAuth() && !engine.getWantClientAuth()) {
                return null;
            }
            try {
                Certificate[] chain = engine.getSession().getPeerCertificates();
                if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
                    return new ClientCertificate(SUCCESS, new AsciiString(ascii(leaf.getSubjectX500Principal().getName())));
                }
            } catch (SSLPeerUnverifiedException e) {
                // none shown
            }
            return NONE;
        }

        /** Printable ASCII as it is; anything else as RFC 4514's escapes of its UTF-8 bytes, so that it fits a header. */
        private static String ascii(String dn) {
            StringBuilder out = new StringBuilder(dn.length());
            for (byte b : dn.getBytes(StandardCharsets.UTF_8)) {
                if (b >= 0x20 && b < 0x7f) {
                    out.append((char) b);
                } else {
                    out.append('\\').append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
                }
            }
            return out.toString();
        }
    }

    /** What the client of {@code ch} (a connection or an HTTP/2 stream) showed when asked for a certificate; null when not asked. */
    static ClientCertificate clientCertificate(Channel ch) {
        Channel connection = ch instanceof Http2StreamChannel ? ch.parent() : ch;
        return connection.hasAttr(CLIENT_CERTIFICATE) ? connection.attr(CLIENT_CERTIFICATE).get() : null;
    }

    /** Whether {@code ch} came in over HTTPS. */
    static boolean isSecure(Channel ch) {
        // An HTTP/2 stream's parent is its connection; a connection's is the listening socket.
        return ch.hasAttr(SECURE) || ch instanceof Http2StreamChannel && ch.parent().hasAttr(SECURE);
    }

    /** The TLS implementation contexts are built on: {@code BoringSSL} (netty-tcnative) or {@code JDK}. */
    static String provider() {
        return OpenSsl.isAvailable() ? "BoringSSL" : "JDK";
    }

    /**
     * What HTTPS connections are made with: the TLS context of the default certificate; the
     * contexts of {@code web.tls.sni}'s certificates by host name (null when there are none); when
     * {@code web.tls.hsts} is set, the handler that adds {@code Strict-Transport-Security} to their
     * answers (else null), one for every connection and stream.
     */
    record Server(SslContext ssl, Mapping<String, SslContext> sni, Hsts hsts, Map<SslContext, byte[]> staples) {
        /**
         * The handler that speaks TLS on {@code ch}: an {@code SslHandler} with the default
         * context, or with SNI certificates an {@code SniHandler} that reads the ClientHello first,
         * picks the context by the name in it and puts the {@code SslHandler} in its place. The
         * engine of a context with an OCSP response staples it ({@code ocsp-response}).
         */
        ChannelHandler newHandler(Channel ch) {
            if (sni == null) {
                return staple(ssl.newHandler(ch.alloc()), ssl);
            }
            return new SniHandler(sni, HANDSHAKE_TIMEOUT_MILLIS) {
                @Override
                protected SslHandler newSslHandler(SslContext context, ByteBufAllocator alloc) {
                    return staple(super.newSslHandler(context, alloc), context);
                }
            };
        }

        private SslHandler staple(SslHandler handler, SslContext context) {
            byte[] response = staples.get(context);
            if (response != null && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
                engine.setOcspResponse(response);
            }
            return handler;
        }
    }

    /** The contexts for {@code tls} (see {@link #context}) and its HSTS handler. */
    static Server server(WebConfig.Tls tls, SiteConfig site) {
        Map<SslContext, byte[]> staples = new IdentityHashMap<>();
        SslContext main = context(tls, site);
        tls.ocspResponse().ifPresent(file -> staples.put(main, OcspStaple.read(file, tls.certificate())));
        Mapping<String, SslContext> sni = null;
        if (!tls.sni().isEmpty()) {
            DomainWildcardMappingBuilder<SslContext> byName = new DomainWildcardMappingBuilder<>(main);
            for (WebConfig.SniCertificate c : tls.sni()) {
                SslContext context = context(c.certificate(), c.key(), tls, c.ocspResponse().isPresent());
                c.ocspResponse().ifPresent(file -> staples.put(context, OcspStaple.read(file, c.certificate())));
                for (String name : c.names()) {
                    byName.add(name, context);
                }
            }
            sni = byName.build();
        }
        return new Server(main, sni,
                tls.hsts().isZero() ? null : new Hsts(AsciiString.cached("max-age=" + tls.hsts().toSeconds())),
                Collections.unmodifiableMap(staples));
    }

    /**
     * The server context for {@code tls}'s default certificate, read from its files now (a reload
     * reads them again, as nginx's does). A self-signed pair is made first when {@code tls} names
     * none and the files are missing or expired.
     *
     * @throws IllegalArgumentException when the files cannot be read or do not make a key pair
     *                                  (the message names them and says why)
     */
    static SslContext context(WebConfig.Tls tls, SiteConfig site) {
        if (tls.selfSigned()) {
            try {
                SelfSignedCertificate.ensure(tls.certificate(), tls.key(), names(tls, site));
            } catch (IOException e) {
                throw new UncheckedIOException("web.tls: cannot write a self-signed certificate to " + tls.certificate() + ": " + e, e);
            }
        }
        return context(tls.certificate(), tls.key(), tls, tls.ocspResponse().isPresent());
    }

    /**
     * A server context for one certificate chain and key, with what {@code tls} says of all: TLS
     * 1.3 and 1.2, ALPN, and client certificates when {@code verify-client} asks for them.
     */
    private static SslContext context(Path certificate, Path key, WebConfig.Tls tls, boolean stapled) {
        if (stapled && !OpenSsl.isOcspSupported()) {
            throw new IllegalArgumentException("web.tls: ocsp-response for " + certificate + " needs BoringSSL (netty-tcnative), which did not load here");
        }
        try {
            SslContextBuilder builder = builder(certificate, key)
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    // TLS 1.2 suites HTTP/2 allows (RFC 9113 section 9.2.2: ephemeral keys, AEAD).
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
            if (tls.verifyClient() != WebConfig.VerifyClient.OFF) {
                Path ca = tls.clientCa().orElseThrow();
                try {
                    builder.trustManager(ca.toFile());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("client-ca " + ca + ": " + rootMessage(e), e);
                }
                builder.clientAuth(tls.verifyClient() == WebConfig.VerifyClient.REQUIRED ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
            }
            return builder.enableOcsp(stapled).build();
        } catch (Exception e) {
            // SSLException for a key that does not match, IllegalArgumentException for a file that is not PEM.
            throw new IllegalArgumentException("web.tls: certificate " + certificate + ", key " + key + ": " + rootMessage(e), e);
        }
    }

    /**
     * A builder with the certificate chain and key of {@code tls}. An unencrypted PKCS#8 key (what
     * {@code openssl genpkey} and the self-signed pair write) is read with the JDK's own classes;
     * other PEM keys (PKCS#1 {@code RSA PRIVATE KEY}, SEC 1 {@code EC PRIVATE KEY}, encrypted ones)
     * through Netty, whose reader loads BouncyCastle's, about a second more at start here.
     */
    private static SslContextBuilder builder(Path certificate, Path keyFile) throws Exception {
        String pem = Files.readString(keyFile, StandardCharsets.ISO_8859_1);
        int begin = pem.indexOf(PKCS8_BEGIN);
        int end = pem.indexOf(PKCS8_END);
        if (begin < 0 || end < begin) {
            return SslContextBuilder.forServer(certificate.toFile(), keyFile.toFile());
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + PKCS8_BEGIN.length(), end));
        PrivateKey key = null;
        for (String algorithm : List.of("EC", "RSA", "Ed25519", "RSASSA-PSS")) {
            try {
                key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                break;
            } catch (InvalidKeySpecException e) {
                // another algorithm's key
            }
        }
        if (key == null) {
            throw new IllegalArgumentException("the key is none of EC, RSA, Ed25519");
        }
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(certificate)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) c);
            }
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no certificate in " + certificate);
        }
        return SslContextBuilder.forServer(key, chain);
    }

    /** The names a self-signed certificate is made for: the site's, localhost, and the HTTPS address when it is an IP. */
    static List<String> names(WebConfig.Tls tls, SiteConfig site) {
        List<String> names = new ArrayList<>(List.of(site.www(), site.domain(), "localhost", "127.0.0.1"));
        String host = tls.listen().host();
        if (!names.contains(host)) {
            names.add(host);
        }
        return names;
    }

    /**
     * In front of the {@code SslHandler}, for a connection's first bytes only: a client that speaks
     * plain HTTP to the HTTPS port (its first byte a letter, a method's, where a TLS handshake
     * record starts with 0x16) gets nginx's answer, a plain-text 400, and the connection closes.
     * Otherwise it steps out of the way.
     */
    static final class PlainHttpDetector extends ChannelInboundHandlerAdapter {
        private static final byte[] ANSWER = ("HTTP/1.1 400 Bad Request\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: 48\r\n"
                + "Connection: close\r\n\r\n"
                + "The plain HTTP request was sent to HTTPS port.\r\n").getBytes(StandardCharsets.US_ASCII);

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf && buf.isReadable()) {
                byte first = buf.getByte(buf.readerIndex());
                if (first >= 'A' && first <= 'Z') {
                    buf.release();
                    log.debug("client {}: plain HTTP on the HTTPS port", ctx.channel().remoteAddress());
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(ANSWER)).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                ctx.pipeline().remove(this);
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * After the handshake: the HTTP/2 handlers when the client chose {@code h2} by ALPN, else the
     * HTTP/1.1 ones ({@link ClientPipeline}). A failed handshake is logged at debug level (the
     * client gave up, spoke something else, or does not trust the certificate).
     */
    static final class Negotiation extends ApplicationProtocolNegotiationHandler {
        private final ClientPipeline pipeline;

        Negotiation(ClientPipeline pipeline) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.pipeline = pipeline;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl != null) {
                ClientCertificate client = ClientCertificate.of(ssl.engine());
                if (client != null) {
                    ctx.channel().attr(CLIENT_CERTIFICATE).set(client);
                }
            }
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                pipeline.addHttp2(ctx.channel());
            } else {
                pipeline.addHttp1(ctx.channel());
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("client {}: TLS handshake failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    /** After the HTTP codec of an HTTPS connection: {@code Strict-Transport-Security} on every answer (RFC 6797). */
    @ChannelHandler.Sharable
    static final class Hsts extends ChannelOutboundHandlerAdapter {
        private static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("strict-transport-security");
        private final AsciiString value;

        Hsts(AsciiString value) {
            this.value = value;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpResponse res) {
                res.headers().set(STRICT_TRANSPORT_SECURITY, value);
            }
            ctx.write(msg, promise);
        }
    }

    /**
     * Right after the {@code SslHandler}: a failed handshake (which the {@code SslHandler} has
     * already answered with an alert and closed) is logged at debug level, not as an error of the
     * handlers behind.
     */
    @ChannelHandler.Sharable
    static final class Errors extends ChannelInboundHandlerAdapter {
        static final Errors INSTANCE = new Errors();

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable why = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            if (why instanceof SSLException) {
                log.debug("client {}: TLS: {}", ctx.channel().remoteAddress(), why.toString());
                ctx.close();
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
    }
}
