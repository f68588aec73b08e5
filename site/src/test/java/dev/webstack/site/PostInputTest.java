package dev.webstack.site;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PostInputTest {

    @Test
    void aNormalPostIsValid() {
        assertThat(PostInput.of("Title", "Ada", "Body").validate()).isEmpty();
    }

    @Test
    void missingAndBlankFieldsAreReportedInFieldOrder() {
        assertThat(PostInput.of(null, "  ", "\n\n").validate()).containsExactly(
                "title: missing (expected: 1 to 200 characters)",
                "author: missing (expected: 1 to 100 characters)",
                "body: missing (expected: 1 to 20000 characters)");
    }

    @Test
    void limitsAreInclusive() {
        assertThat(PostInput.of("t".repeat(200), "a".repeat(100), "b".repeat(20_000)).validate()).isEmpty();
        assertThat(PostInput.of("t".repeat(201), "a".repeat(101), "b".repeat(20_001)).validate()).containsExactly(
                "title: 201 characters (expected: at most 200)",
                "author: 101 characters (expected: at most 100)",
                "body: 20001 characters (expected: at most 20000)");
    }

    @Test
    void lengthsCountCharactersNotUtf16Units() {
        String emoji = "\uD83D\uDE00"; // one character, two UTF-16 units
        assertThat(PostInput.of(emoji.repeat(200), "a", "b").validate()).isEmpty();
        assertThat(PostInput.of(emoji.repeat(201), "a", "b").validate()).hasSize(1);
    }

    @Test
    void normalizesWhitespaceAndLineBreaks() {
        PostInput input = PostInput.of("  Title \t", " Ada ", "line 1\r\nline 2\r\n");
        assertThat(input).isEqualTo(new PostInput("Title", "Ada", "line 1\nline 2"));
    }
}
