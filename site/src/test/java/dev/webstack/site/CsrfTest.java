package dev.webstack.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CsrfTest {
    static final byte[] KEY = filled(32, 7);
    static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

    final Csrf csrf = new Csrf(KEY, Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void acceptsTheSameFreshTokenInCookieAndField() {
        String token = csrf.issue();
        assertThat(token).matches("[A-Za-z0-9_-]{22}\\.\\d+\\.[A-Za-z0-9_-]{43}");
        assertThat(csrf.verify(token, token)).isEqualTo(Csrf.Verdict.VALID);
    }

    @Test
    void tokensAreRandom() {
        assertThat(csrf.issue()).isNotEqualTo(csrf.issue());
    }

    @Test
    void refusesMissingOrDifferentTokens() {
        String token = csrf.issue();
        assertThat(csrf.verify("", token)).isEqualTo(Csrf.Verdict.MISSING_COOKIE);
        assertThat(csrf.verify(token, "")).isEqualTo(Csrf.Verdict.MISSING_FIELD);
        assertThat(csrf.verify(token, csrf.issue())).isEqualTo(Csrf.Verdict.MISMATCH);
    }

    @Test
    void refusesATokenAnAttackerMadeUp() {
        String forged = "AAAAAAAAAAAAAAAAAAAAAA." + NOW.getEpochSecond() + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assertThat(csrf.verify(forged, forged)).isEqualTo(Csrf.Verdict.BAD_SIGNATURE);
        assertThat(csrf.verify("garbage", "garbage")).isEqualTo(Csrf.Verdict.MALFORMED);
    }

    @Test
    void refusesATokenSignedWithAnotherKey() {
        String other = new Csrf(filled(32, 8), Clock.fixed(NOW, ZoneOffset.UTC)).issue();
        assertThat(csrf.verify(other, other)).isEqualTo(Csrf.Verdict.BAD_SIGNATURE);
    }

    @Test
    void refusesATokenWithATamperedIssueTime() {
        String[] parts = csrf.issue().split("\\.");
        String tampered = parts[0] + "." + (NOW.getEpochSecond() + 3600) + "." + parts[2];
        assertThat(csrf.verify(tampered, tampered)).isEqualTo(Csrf.Verdict.BAD_SIGNATURE);
    }

    @Test
    void tokensExpire() {
        String token = csrf.issue();
        Csrf dayLater = new Csrf(KEY, Clock.fixed(NOW.plus(Csrf.MAX_AGE).plusSeconds(1), ZoneOffset.UTC));
        Csrf almostDayLater = new Csrf(KEY, Clock.fixed(NOW.plus(Csrf.MAX_AGE).minusSeconds(1), ZoneOffset.UTC));
        assertThat(almostDayLater.verify(token, token)).isEqualTo(Csrf.Verdict.VALID);
        assertThat(dayLater.verify(token, token)).isEqualTo(Csrf.Verdict.EXPIRED);
    }

    @Test
    void anotherAppServerWithTheSameKeyAccepts() {
        String token = csrf.issue();
        Csrf otherServer = new Csrf(KEY.clone(), Clock.fixed(NOW.plusSeconds(30), ZoneOffset.UTC));
        assertThat(otherServer.verify(token, token)).isEqualTo(Csrf.Verdict.VALID);
    }

    @Test
    void theFormReusesAYoungTokenAndReplacesAnOldOrInvalidOne() {
        String token = csrf.issue();
        assertThat(csrf.tokenFor(token)).isEqualTo(token);
        Csrf later = new Csrf(KEY, Clock.fixed(NOW.plus(Csrf.REUSE_FOR).plus(Duration.ofMinutes(1)), ZoneOffset.UTC));
        assertThat(later.tokenFor(token)).isNotEqualTo(token);
        assertThat(csrf.tokenFor("")).isNotEmpty();
        assertThat(csrf.tokenFor("forged.1.x")).isNotEqualTo("forged.1.x");
    }

    @Test
    void refusesAShortKey() {
        assertThatThrownBy(() -> new Csrf(new byte[16], Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: >= 32");
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
