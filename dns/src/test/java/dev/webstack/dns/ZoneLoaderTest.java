package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webstack.common.config.ConfigException;
import dev.webstack.common.config.DnsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZoneLoaderTest {
    private static final String ZONE = """
            $TTL 300
            @    IN SOA ns1 hostmaster %d 3600 900 1209600 300
            @    IN NS  ns1
            ns1  IN A   192.0.2.1
            """;

    @TempDir
    Path dir;

    @Test
    void theRecordsComeFromTheBytesReadForTheDigestNotFromASecondRead() throws Exception {
        Path file = dir.resolve("example.test.zone");
        Files.writeString(file, ZONE.formatted(1));
        DnsConfig.Zone zone = new DnsConfig.Zone("example.test.", file);

        ZoneLoader.Source read = ZoneLoader.read(file);
        Files.writeString(file, ZONE.formatted(2)); // changed after the read: not what the digest names

        assertThat(read.digest()).isPresent();
        assertThat(ZoneLoader.load(zone, read).soa().getSerial()).isEqualTo(1);
        assertThat(ZoneLoader.load(zone).soa().getSerial()).as("read from the path").isEqualTo(2);
    }

    @Test
    void anErrorInTheBytesNamesTheFileAndLineAsAnErrorReadFromThePath() throws Exception {
        Path file = dir.resolve("bad.zone");
        Files.writeString(file, ZONE.formatted(1) + "www  IN A   192.0.2\n");
        DnsConfig.Zone zone = new DnsConfig.Zone("example.test.", file);

        ConfigException fromBytes = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ZoneLoader.load(zone, ZoneLoader.read(file)));
        ConfigException fromPath = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> ZoneLoader.load(zone));
        assertThat(fromBytes.getMessage()).contains(file.toString() + ":5:").contains("192.0.2").isEqualTo(fromPath.getMessage());
    }

    @Test
    void aFileWithAnIncludeHasNoDigestAndIsReadFromItsPath() throws Exception {
        Path file = dir.resolve("example.test.zone");
        Files.writeString(dir.resolve("hosts.inc"), "www  IN A   192.0.2.80\n");
        Files.writeString(file, ZONE.formatted(1) + "$INCLUDE hosts.inc\n");
        DnsConfig.Zone zone = new DnsConfig.Zone("example.test.", file);

        ZoneLoader.Source read = ZoneLoader.read(file);
        assertThat(read.digest()).isEmpty();
        assertThat(ZoneLoader.load(zone, read).names()).containsKey(org.xbill.DNS.Name.fromConstantString("www.example.test."));

        assertThat(ZoneLoader.read(dir.resolve("missing.zone")).digest()).isEmpty();
        assertThatThrownBy(() -> ZoneLoader.load(new DnsConfig.Zone("example.test.", dir.resolve("missing.zone")),
                ZoneLoader.read(dir.resolve("missing.zone"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot read");
    }
}
