package dev.webstack.site;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CredentialsTest {

    @Test
    void aGoodNameAndPasswordPass() {
        assertThat(Credentials.of("  ada.l_1-x ", "eight ch").validate()).isEmpty();
        assertThat(Credentials.of("  ada ", "pw").name()).isEqualTo("ada");
        assertThat(Credentials.of("ada", "  spaces kept  ").password()).isEqualTo("  spaces kept  ");
    }

    @Test
    void eachRuleSaysWhatItExpects() {
        assertThat(Credentials.of(null, null).validate()).containsExactly(
                "name: 0 characters (expected: 3 to 32)", "password: 0 characters (expected: 8 to 200)");
        assertThat(Credentials.of("a".repeat(33), "p".repeat(201)).validate()).containsExactly(
                "name: 33 characters (expected: 3 to 32)", "password: 201 characters (expected: 8 to 200)");
        assertThat(Credentials.of("ada lovelace", "long enough").validate())
                .containsExactly("name: only letters A-Z, digits, '.', '_' and '-' (no spaces)");
        assertThat(Credentials.of("<script>", "long enough").validate()).hasSize(1);
        assertThat(Credentials.of("adä", "long enough").validate()).as("ASCII names only").hasSize(1);
    }

    @Test
    void passwordsAreCountedInCharactersAndNeverPrinted() {
        assertThat(Credentials.of("ada", "🔑".repeat(8)).validate()).isEmpty();
        assertThat(Credentials.of("ada", "hunter22-secret").toString()).doesNotContain("hunter22");
    }
}
