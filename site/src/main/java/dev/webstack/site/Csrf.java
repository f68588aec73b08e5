package dev.webstack.site;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * CSRF protection for the HTML form, without server-side sessions: a <em>signed double-submit
 * token</em> (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit Cookie").
 *
 * <p>The app servers are stateless (any of them may serve the form and another one receive the
 * POST), so nothing is stored per visitor. A token is {@code random.issuedAt.signature}: 16 random
 * bytes, the issue time in epoch seconds, and an HMAC-SHA256 over both with a key that all app
 * servers share (kept in the database table {@code site_secret}, created once by the first app
 * server that starts: see {@link SecretStore}). The form page sends the token twice: in the
 * cookie {@value #COOKIE} ({@code HttpOnly; SameSite=Lax; Path=/}) and in the hidden field
 * {@value #FIELD}. A POST is accepted only when both are present, equal, correctly signed and not
 * expired. A cross-site page can make the browser send the cookie but cannot read it to fill the
 * field; the signature stops an attacker who can plant cookies (e.g. from a sibling subdomain)
 * from choosing a token of their own, and the expiry bounds how long a leaked token is useful.
 * The cookie is {@code Secure} when the page came over HTTPS ({@link Cookies}).
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>what</th><th>value</th></tr>
 *   <tr><td>token lifetime</td><td>{@link #MAX_AGE} (24 hours)</td></tr>
 *   <tr><td>the form reuses the visitor's token while it is younger than</td><td>{@link #REUSE_FOR} (12 hours),
 *       so that two open tabs do not invalidate each other's forms</td></tr>
 *   <tr><td>allowed clock skew between app servers</td><td>{@link #SKEW} (1 minute)</td></tr>
 * </table>
 */
public final class Csrf {
    public static final String COOKIE = "csrf";
    public static final String FIELD = "csrf";
    public static final Duration MAX_AGE = Duration.ofHours(24);
    public static final Duration REUSE_FOR = Duration.ofHours(12);
    public static final Duration SKEW = Duration.ofMinutes(1);

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Pattern ISSUED_AT = Pattern.compile("[0-9]{1,12}");

    /** Why a token pair was accepted or refused; only {@link #VALID} lets a POST through. */
    public enum Verdict {
        VALID, MISSING_COOKIE, MISSING_FIELD, MISMATCH, MALFORMED, BAD_SIGNATURE, EXPIRED
    }

    private final SecretKeySpec key;
    private final Clock clock;

    public Csrf(byte[] key, Clock clock) {
        if (key.length < 32) {
            throw new IllegalArgumentException("key: " + key.length + " bytes (expected: >= 32)");
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
        this.clock = clock;
    }

    /** A fresh token for the cookie and the hidden field. */
    public String issue() {
        byte[] raw = new byte[16];
        RANDOM.nextBytes(raw);
        String payload = B64.encodeToString(raw) + "." + clock.instant().getEpochSecond();
        return payload + "." + sign(payload);
    }

    /**
     * The token a form page should use: the visitor's current one while it is valid and younger
     * than {@link #REUSE_FOR}, else a fresh one. {@code cookie} is empty when the visitor has none.
     */
    public String tokenFor(String cookie) {
        return check(cookie, REUSE_FOR) == Verdict.VALID ? cookie : issue();
    }

    /** Checks the token of the cookie against the one of the form field; empty means absent. */
    public Verdict verify(String cookie, String field) {
        if (cookie.isEmpty()) {
            return Verdict.MISSING_COOKIE;
        }
        if (field.isEmpty()) {
            return Verdict.MISSING_FIELD;
        }
        if (!MessageDigest.isEqual(cookie.getBytes(StandardCharsets.UTF_8), field.getBytes(StandardCharsets.UTF_8))) {
            return Verdict.MISMATCH;
        }
        return check(cookie, MAX_AGE);
    }

    private Verdict check(String token, Duration maxAge) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || parts[0].isEmpty() || !ISSUED_AT.matcher(parts[1]).matches()) {
            return Verdict.MALFORMED;
        }
        String payload = parts[0] + "." + parts[1];
        if (!MessageDigest.isEqual(sign(payload).getBytes(StandardCharsets.US_ASCII),
                parts[2].getBytes(StandardCharsets.US_ASCII))) {
            return Verdict.BAD_SIGNATURE;
        }
        long issued = Long.parseLong(parts[1]);
        long now = clock.instant().getEpochSecond();
        if (issued > now + SKEW.toSeconds() || now - issued > maxAge.toSeconds()) {
            return Verdict.EXPIRED;
        }
        return Verdict.VALID;
    }

    private String sign(String payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return B64.encodeToString(mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable: " + e, e);
        }
    }
}
