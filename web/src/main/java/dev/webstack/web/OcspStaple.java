package dev.webstack.web;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Date;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;

/**
 * An OCSP response (RFC 6960) to staple to TLS handshakes ({@code web.tls.ocsp-response}, nginx's
 * {@code ssl_stapling_file}): the DER file a CA's responder gave (e.g. {@code openssl ocsp -issuer
 * chain.pem -cert cert.pem -url <responder> -respout cert.ocsp}), read with BouncyCastle and checked
 * before it is served, since a client that gets a wrong or stale one may refuse the connection: it
 * must be a successful response that says "good" for the certificate's serial number and is not past
 * its next update. Fetching it again before that time is the operator's (a timer, then
 * {@code webstack reload}), as with nginx's file.
 */
final class OcspStaple {
    private OcspStaple() {}

    /**
     * The bytes of {@code file}, checked against the first certificate of {@code certificate}.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    static byte[] read(Path file, Path certificate) {
        String what = "ocsp-response " + file + ": ";
        byte[] der;
        X509Certificate cert;
        try {
            der = Files.readAllBytes(file);
            try (InputStream in = Files.newInputStream(certificate)) {
                cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
        } catch (IOException | CertificateException e) {
            throw new IllegalArgumentException(what + "cannot read it or " + certificate + ": " + e.getMessage(), e);
        }
        try {
            OCSPResp response = new OCSPResp(der);
            if (response.getStatus() != OCSPResp.SUCCESSFUL) {
                throw new IllegalArgumentException(what + "the responder answered status " + response.getStatus() + ", not successful");
            }
            BasicOCSPResp basic = (BasicOCSPResp) response.getResponseObject();
            BigInteger serial = cert.getSerialNumber();
            for (SingleResp single : basic.getResponses()) {
                if (!single.getCertID().getSerialNumber().equals(serial)) {
                    continue;
                }
                if (single.getCertStatus() instanceof RevokedStatus revoked) {
                    throw new IllegalArgumentException(what + "says the certificate was revoked on " + revoked.getRevocationTime());
                }
                if (single.getCertStatus() != null) {
                    throw new IllegalArgumentException(what + "does not say the certificate is good");
                }
                Date next = single.getNextUpdate();
                if (next != null && next.before(new Date())) {
                    throw new IllegalArgumentException(what + "expired on " + next + " (fetch a fresh one from the CA's responder)");
                }
                return der;
            }
            throw new IllegalArgumentException(what + "is not about " + certificate + " (serial " + serial.toString(16) + ")");
        } catch (IOException | OCSPException | ClassCastException e) {
            throw new IllegalArgumentException(what + "not a DER OCSP response: " + e.getMessage(), e);
        }
    }
}
