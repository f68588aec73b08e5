package dev.webstack.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code web.access-log-format} and {@code web.access-log-escape}: presets, templates, and what is refused. */
class AccessLogFormatTest {
    private static final Path FILE = Path.of("/srv/stack/webstack.yml");

    @Test
    void theDefaultIsCombinedThenTheRequestTimeAndId() {
        AccessLogFormat format = StackConfig.parse(FILE, "web:\n  listen: 127.0.0.1:8080\n").web().accessLogFormat();
        assertThat(format).isEqualTo(AccessLogFormat.DEFAULT);
        assertThat(format.template()).isEqualTo("$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
                + "\"$http_referer\" \"$http_user_agent\" $request_time $request_id");
        assertThat(format.escape()).isEqualTo(AccessLogFormat.Escape.DEFAULT);
        assertThat(StackConfig.parse(FILE, "web:\n  access-log-format: combined\n").web().accessLogFormat().template())
                .isEqualTo(AccessLogFormat.COMBINED);
    }

    @Test
    void aTemplateIsCutIntoTextAndVariablesAsNginxReadsThem() {
        AccessLogFormat format = StackConfig.parse(FILE, """
                web:
                  access-log-format: '{"s":$status,"ua":"$http_User_Agent","t":"${request_time}s","ct":"$sent_http_content_type"}'
                  access-log-escape: json
                """).web().accessLogFormat();
        assertThat(format.escape()).isEqualTo(AccessLogFormat.Escape.JSON);
        assertThat(format.parts()).containsExactly(
                new AccessLogFormat.Text("{\"s\":"), new AccessLogFormat.Variable("status"),
                new AccessLogFormat.Text(",\"ua\":\""), new AccessLogFormat.Variable("http_user_agent"),
                new AccessLogFormat.Text("\",\"t\":\""), new AccessLogFormat.Variable("request_time"),
                new AccessLogFormat.Text("s\",\"ct\":\""), new AccessLogFormat.Variable("sent_http_content_type"),
                new AccessLogFormat.Text("\"}"));
        assertThat(AccessLogFormat.parse("$status$status", AccessLogFormat.Escape.NONE).parts())
                .as("two variables side by side").hasSize(2);
        assertThatThrownBy(() -> AccessLogFormat.parse("cost: 5$", AccessLogFormat.Escape.NONE))
                .hasMessageContaining("'$' at position 8 without a variable name");
    }

    @Test
    void unknownVariablesAndEscapesNameTheLine() {
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  listen: 127.0.0.1:8080\n  access-log-format: '$remote_addr $upstream_cache_status'\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("unknown variable $upstream_cache_status")
                .hasMessageContaining("$request_time");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  access-log-format: 'at ${status'\n"))
                .hasMessageContaining("webstack.yml:2").hasMessageContaining("not closed");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  access-log-format: ''\n"))
                .hasMessageContaining("webstack.yml:2").hasMessageContaining("an empty format");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n  access-log-format: '$http_'\n"))
                .hasMessageContaining("unknown variable $http_");
        assertThatThrownBy(() -> StackConfig.parse(FILE, "web:\n\n  access-log-escape: xml\n"))
                .hasMessageContaining("webstack.yml:3").hasMessageContaining("'xml' (expected: default, json or none)");
    }
}
