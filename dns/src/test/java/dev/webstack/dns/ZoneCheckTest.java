package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.ConfigException;
import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading zone files: unusable ones throw {@code path:line: reason}; usable ones with mistakes list them. */
class ZoneCheckTest {
    private static final String HEAD = """
            $ORIGIN example.test.
            $TTL 300
            @ IN SOA ns1 hostmaster 1 3600 900 1209600 300
            @ IN NS ns1
            ns1 IN A 192.0.2.1
            """;

    @TempDir
    Path dir;

    private DnsConfig config(String zoneText) throws IOException {
        Path file = dir.resolve("example.test.zone");
        Files.writeString(file, zoneText);
        return new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", file)), 1232);
    }

    @Test
    void theShippedZonesHaveNoProblem() {
        assertThat(ZoneCheck.check(TestZones.config(new HostPort("127.0.0.1", 0)))).isEmpty();
    }

    @Test
    void syntaxErrorNamesThePathAndTheLine() throws IOException {
        DnsConfig config = config(HEAD + "www IN A not-an-address\n");

        assertThatThrownBy(() -> ZoneCheck.check(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(dir.resolve("example.test.zone") + ":6: ")
                .hasMessageContaining("not-an-address")
                .satisfies(e -> assertThat(((ConfigException) e).line()).isEqualTo(6));
    }

    @Test
    void zoneWithoutSoaNamesThePath() throws IOException {
        DnsConfig config = config("$ORIGIN example.test.\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.1\n");

        assertThatThrownBy(() -> ZoneCheck.check(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(dir.resolve("example.test.zone") + ": ")
                .hasMessageContaining("SOA");
    }

    @Test
    void missingFileNamesThePath() {
        Path missing = dir.resolve("missing.zone");
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("example.test.", missing)), 1232);

        assertThatThrownBy(() -> ZoneCheck.check(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(missing + ": cannot read");
    }

    @Test
    void mistakesThatStillServeAreListed() throws IOException {
        DnsConfig config = config(HEAD + """
                www IN CNAME @
                www IN TXT "beside a CNAME"
                @ IN MX 10 www
                @ IN MX 20 nowhere
                sub IN NS ns.sub
                other.example.org. IN A 192.0.2.9
                """);

        List<String> problems = ZoneCheck.check(config).stream().map(ZoneCheck.Problem::toString).toList();

        String file = dir.resolve("example.test.zone").toString();
        assertThat(problems).containsExactlyInAnyOrder(
                file + ": other.example.org.: outside the zone example.test., ignored: other.example.org.\t300\tIN\tA\t192.0.2.9",
                file + ": www.example.test.: a CNAME cannot have other data beside it (RFC 1034 3.6.2)",
                file + ": example.test.: MX target www.example.test. is a CNAME (RFC 2181 10.3)",
                file + ": example.test.: MX target nowhere.example.test. has no A or AAAA record in the zone",
                file + ": sub.example.test.: NS target ns.sub.example.test. has no A or AAAA record in the zone");
    }
}
