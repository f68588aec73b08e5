package dev.webstack.web;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * For client-certificate tests: a certificate authority that issues client certificates, each an
 * ECDSA P-256 key pair and a certificate valid for a day (BouncyCastle, as the tier's own
 * {@link SelfSignedCertificate}).
 */
final class TestCertificates {
    /** A key pair and its certificate. */
    record Issued(KeyPair keys, X509Certificate certificate) {}

    private final Issued ca;

    /** A new authority named {@code cn}. */
    TestCertificates(String cn) throws Exception {
        KeyPair keys = keyPair();
        X500Name name = new X500Name("CN=" + cn);
        JcaX509v3CertificateBuilder builder = builder(name, name, keys);
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        ca = new Issued(keys, sign(builder, keys));
    }

    /** Writes the authority's certificate (PEM) to {@code file}, what {@code web.tls.client-ca} names. */
    Path writeCertificate(Path file) throws Exception {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, pem("CERTIFICATE", ca.certificate().getEncoded()), StandardCharsets.US_ASCII);
    }

    /**
     * A client certificate for {@code subject} signed by this authority. The subject is written in
     * the certificate's order, top first ({@code O=Foobar,CN=alice}); RFC 4514's string, which the
     * app server is given, reverses it ({@code CN=alice,O=Foobar}).
     */
    Issued issueClient(String subject) throws Exception {
        KeyPair keys = keyPair();
        JcaX509v3CertificateBuilder builder = builder(X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
                new X500Name(subject), keys);
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        return new Issued(keys, sign(builder, ca.keys()));
    }

    /** A server certificate for {@code names} (subject alternative names) signed by this authority. */
    Issued issueServer(String... names) throws Exception {
        KeyPair keys = keyPair();
        JcaX509v3CertificateBuilder builder = builder(X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
                new X500Name("CN=" + names[0]), keys);
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                java.util.Arrays.stream(names).map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        return new Issued(keys, sign(builder, ca.keys()));
    }

    /** Writes {@code issued}'s certificate then this authority's (a chain, PEM) and its key (PKCS#8 PEM). */
    static void write(Issued issued, TestCertificates ca, Path chain, Path key) throws Exception {
        Files.createDirectories(chain.toAbsolutePath().getParent());
        Files.writeString(chain, pem("CERTIFICATE", issued.certificate().getEncoded()) + pem("CERTIFICATE", ca.ca.certificate().getEncoded()),
                StandardCharsets.US_ASCII);
        Files.writeString(key, pem("PRIVATE KEY", issued.keys().getPrivate().getEncoded()), StandardCharsets.US_ASCII);
    }

    /**
     * This authority's OCSP response (DER) about {@code issued}: {@code status} ({@code null} for good),
     * valid from an hour ago until {@code nextUpdate}, signed by the authority itself.
     */
    byte[] ocspResponse(Issued issued, org.bouncycastle.cert.ocsp.CertificateStatus status, Date nextUpdate) throws Exception {
        org.bouncycastle.operator.DigestCalculator sha1 = new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder().build()
                .get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1);
        org.bouncycastle.cert.ocsp.CertificateID id = new org.bouncycastle.cert.ocsp.CertificateID(sha1,
                new org.bouncycastle.cert.jcajce.JcaX509CertificateHolder(ca.certificate()), issued.certificate().getSerialNumber());
        org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder builder =
                new org.bouncycastle.cert.ocsp.jcajce.JcaBasicOCSPRespBuilder(ca.keys().getPublic(), sha1);
        builder.addResponse(id, status, Date.from(Instant.now().minus(Duration.ofHours(1))), nextUpdate);
        org.bouncycastle.cert.ocsp.BasicOCSPResp basic = builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(ca.keys().getPrivate()), null, new Date());
        return new org.bouncycastle.cert.ocsp.OCSPRespBuilder().build(org.bouncycastle.cert.ocsp.OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A client context that shows {@code client} (none when null) and trusts only {@code serverCertificate}. */
    static SSLContext clientContext(Issued client, Path serverCertificate) throws Exception {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        try (var in = Files.newInputStream(serverCertificate)) {
            trusted.setCertificateEntry("web", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        trust.init(trusted);
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore own = KeyStore.getInstance("PKCS12");
        own.load(null, null);
        if (client != null) {
            own.setKeyEntry("client", client.keys().getPrivate(), new char[0], new Certificate[] {client.certificate()});
        }
        keys.init(own, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return generator.generateKeyPair();
    }

    private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, keys.getPublic());
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }
}
