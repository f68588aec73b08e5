package dev.webstack.web;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate the web tier serves HTTPS with when {@code web.tls} names none: an ECDSA P-256
 * key and a self-signed certificate for the site's names (subject alternative names, as browsers
 * require), valid {@value #VALID_DAYS} days, written as PEM (the key readable by its owner only).
 * Kept across restarts and made again when missing or about to expire. Browsers warn about it; a
 * client trusts it with e.g. {@code curl --cacert var/tls/web.crt}.
 */
final class SelfSignedCertificate {
    static final int VALID_DAYS = 365;
    private static final Logger log = LoggerFactory.getLogger(SelfSignedCertificate.class);
    private static final Duration RENEW_BEFORE = Duration.ofDays(7);

    private SelfSignedCertificate() {}

    /** Makes the pair at {@code certificate} and {@code key} unless a valid one is there. */
    static synchronized void ensure(Path certificate, Path key, List<String> names) throws IOException {
        if (Files.isReadable(key) && validFor(certificate, RENEW_BEFORE)) {
            return;
        }
        try {
            write(certificate, key, names);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make a self-signed certificate: " + e, e);
        }
        log.info("web: made a self-signed certificate for {} at {} (valid {} days)", names, certificate, VALID_DAYS);
    }

    /** Whether {@code certificate} holds a certificate valid now and for {@code margin} more. */
    static boolean validFor(Path certificate, Duration margin) {
        if (!Files.isReadable(certificate)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(certificate)) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            Instant now = Instant.now();
            return cert.getNotBefore().toInstant().isBefore(now) && cert.getNotAfter().toInstant().isAfter(now.plus(margin));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static void write(Path certificate, Path key, List<String> names) throws IOException, GeneralSecurityException,
            OperatorCreationException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair pair = generator.generateKeyPair();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, names.get(0))
                .addRDN(BCStyle.O, "webstack (self-signed)")
                .build();
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                subject,
                new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(VALID_DAYS))),
                subject,
                pair.getPublic());
        GeneralName[] alternatives = names.stream().map(SelfSignedCertificate::generalName).toArray(GeneralName[]::new);
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alternatives));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));

        Files.createDirectories(certificate.toAbsolutePath().getParent());
        Files.createDirectories(key.toAbsolutePath().getParent());
        // The key first, owner-only from the start; each file replaced whole.
        writeAtomically(key, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true);
        writeAtomically(certificate, pem("CERTIFICATE", cert.getEncoded()), false);
    }

    private static GeneralName generalName(String name) {
        if (name.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || name.contains(":")) {
            try {
                return new GeneralName(GeneralName.iPAddress, name);
            } catch (IllegalArgumentException e) {
                // not an address after all: a name
            }
        }
        return new GeneralName(GeneralName.dNSName, name);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void writeAtomically(Path file, String text, boolean secret) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (secret && Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
