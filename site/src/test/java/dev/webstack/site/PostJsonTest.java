package dev.webstack.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PostJsonTest {

    @Test
    void parsesANewPost() {
        assertThat(parse("{\"title\":\" T \",\"body\":\"B\",\"author\":\"A\"}")).isEqualTo(new PostInput("T", "A", "B"));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "``                                                      | empty body",
            "`{\"title\": `                                          | invalid JSON",
            "`not json`                                              | invalid JSON",
            "`[1, 2]`                                                | expected a JSON object with title, body and author, got an array",
            "`\"text\"`                                              | got a string",
            "`{\"title\":\"t\",\"body\":\"b\"}`                      | author: missing (expected: a string)",
            "`{\"title\":null,\"body\":\"b\",\"author\":\"a\"}`      | title: missing",
            "`{\"title\":5,\"body\":\"b\",\"author\":\"a\"}`         | title: expected a string, got a number",
            "`{\"title\":\"t\",\"body\":[],\"author\":\"a\"}`        | body: expected a string, got an array",
            "`{\"title\":\"t\",\"body\":\"b\",\"author\":\"a\",\"x\":1}` | unknown field 'x'",
            "`{\"title\":\"t\",\"title\":\"u\",\"body\":\"b\",\"author\":\"a\"}` | invalid JSON: Duplicate field 'title'",
            "`{\"title\":\"t\",\"body\":\"b\",\"author\":\"a\"} {}`  | invalid JSON",
    })
    void refusesWithA400ThatSaysWhy(String json, String expected) {
        assertThatThrownBy(() -> parse(json))
                .isInstanceOfSatisfying(HttpError.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessageContaining(expected);
    }

    @Test
    void writesAPostWithItsIdAndIsoTime() {
        Post post = new Post(42, "T \"q\"", "B", "A", Instant.parse("2025-01-31T12:00:00.123Z"));
        assertThat(new String(PostJson.bytes(PostJson.list(java.util.List.of(post))), StandardCharsets.UTF_8))
                .isEqualTo("{\"posts\":[{\"id\":42,\"title\":\"T \\\"q\\\"\",\"body\":\"B\",\"author\":\"A\","
                        + "\"createdAt\":\"2025-01-31T12:00:00.123Z\"}]}");
    }

    private static PostInput parse(String json) {
        return PostJson.parse(json.getBytes(StandardCharsets.UTF_8));
    }
}
