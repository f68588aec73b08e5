package dev.webstack.site;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordsTest {
    static final String STORED = Passwords.hash("correct horse battery staple");

    @Test
    void aHashIsSaltedPbkdf2WithTheIterationCountInIt() {
        assertThat(STORED).matches("pbkdf2-sha256\\$210000\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
        assertThat(Passwords.hash("correct horse battery staple")).as("a new salt each time").isNotEqualTo(STORED);
    }

    @Test
    void verifiesTheRightPasswordOnly() throws Exception {
        assertThat(Passwords.verify("correct horse battery staple", STORED)).isTrue();
        assertThat(Passwords.verify("correct horse battery stapl", STORED)).isFalse();
        assertThat(Passwords.verify("Correct horse battery staple", STORED)).isFalse();
        assertThat(Passwords.verify("", STORED)).isFalse();
    }

    @Test
    void nonAsciiPasswordsWork() throws Exception {
        String stored = Passwords.hash("pässwörd-日本-🔑");
        assertThat(Passwords.verify("pässwörd-日本-🔑", stored)).isTrue();
        assertThat(Passwords.verify("passwort-日本-🔑", stored)).isFalse();
    }

    @Test
    void malformedOrWeakStoredValuesNeverMatch() throws Exception {
        String[] parts = STORED.split("\\$");
        assertThat(Passwords.verify("x", "")).isFalse();
        assertThat(Passwords.verify("x", "plain-text-password")).isFalse();
        assertThat(Passwords.verify("x", "md5$1$abc$def")).isFalse();
        assertThat(Passwords.verify("x", parts[0] + "$" + parts[1] + "$not base64!$" + parts[3])).isFalse();
        // A count below the floor is refused even with the right password: no downgrade by editing the row.
        assertThat(Passwords.verify("correct horse battery staple", parts[0] + "$1000$" + parts[2] + "$" + parts[3])).isFalse();
    }

    @Test
    void aDecoyCostsAboutAsMuchAsARealCheck() throws Exception {
        Passwords.verify("warm up", STORED);
        long real = time(() -> Passwords.verify("wrong password", STORED));
        long decoy = time(() -> Passwords.verifyDecoy("wrong password"));
        assertThat(Passwords.verifyDecoy("decoy password, never matched")).isFalse();
        assertThat((double) decoy).as("decoy %d ns vs real %d ns", decoy, real).isBetween(real * 0.4, real * 2.5);
    }

    private interface Check {
        boolean run() throws Exception;
    }

    private static long time(Check check) throws Exception {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t = System.nanoTime();
            check.run();
            best = Math.min(best, System.nanoTime() - t);
        }
        return best;
    }
}
