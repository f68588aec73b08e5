package dev.webstack.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.StackConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the supervisor runs, and the topology it records, before and after {@code webstack db promote}. */
class StackPlanTest {
    @TempDir
    Path dir;

    private StackConfig config(String replicas) throws Exception {
        Path file = dir.resolve("webstack.yml");
        return StackConfig.parse(file, """
                db:
                  listen: 127.0.0.1:3307
                  data-dir: var/db
                  %s
                """.formatted(replicas));
    }

    @Test
    void aReplicaRunsAfterThePrimary() throws Exception {
        StackConfig stack = config("replicas: 1");

        assertThat(StackPlan.components(stack)).extracting(Component::name).startsWith("db", "db-replica-1", "app-1");
        assertThat(StackPlan.database(stack)).isEqualTo(
                new StackState.Database("db", "127.0.0.1:3307", List.of("db-replica-1"), List.of(), ""));
    }

    @Test
    void afterAPromotionTheOldPrimaryIsRetiredAndTheReplicaIsThePrimary() throws Exception {
        StackConfig stack = config("replicas: 1");
        Path replicaData = Files.createDirectories(stack.db().replica(1).dataDir());
        Files.writeString(replicaData.resolve("promoted"), "promoted to primary at 2026-11-25T22:00:00Z\n");

        List<Component> plan = StackPlan.components(stack);
        assertThat(plan).extracting(Component::name).doesNotContain("db").startsWith("db-replica-1", "app-1");
        assertThat(plan.get(0).summary()).startsWith("promoted: the primary, data in var/db-replica-1");
        StackState.Database topology = StackPlan.database(stack);
        assertThat(topology.primary()).isEqualTo("db-replica-1");
        assertThat(topology.primaryAddress()).isEqualTo("127.0.0.1:3308");
        assertThat(topology.replicas()).isEmpty();
        assertThat(topology.retired()).containsExactly("db");
        assertThat(topology.note()).contains("var/db-replica-1/promoted", "db on 127.0.0.1:3307 is retired", "docs/DATABASE.md");
    }

    @Test
    void theDnsTiersHeapGrowsWithItsZoneFiles() throws Exception {
        Path zone = dir.resolve("big.zone");
        Files.writeString(zone, "; a small zone\n");
        String yaml = "dns:\n  zones:\n    - origin: foobar.com.\n      file: " + zone + "\n";
        StackConfig small = StackConfig.parse(dir.resolve("webstack.yml"), yaml);
        assertThat(dnsOptions(small)).as("small zones").contains("-Xmx256m");

        Files.write(zone, new byte[5 << 20]); // 5 MB: about 200,000 records
        StackConfig large = StackConfig.parse(dir.resolve("webstack.yml"), yaml);
        assertThat(dnsOptions(large)).as("64 MB and 110 times the files' size").contains("-Xmx614m");
    }

    private static List<String> dnsOptions(StackConfig stack) {
        return StackPlan.components(stack).stream().filter(c -> c.name().equals("dns")).findFirst().orElseThrow().jvmOptions();
    }

    @Test
    void aReloadSaysWhichChangedSectionsWaitForTheNextStart() throws Exception {
        Path file = dir.resolve("webstack.yml");
        StackConfig running = StackConfig.parse(file, "app:\n  servers: 2\nweb:\n  listen: 127.0.0.1:8080\n");

        assertThat(StackPlan.appliedAtNextStart(running, StackConfig.parse(file, "app:\n  servers: 2\nweb:\n  listen: 127.0.0.1:8081\n")))
                .as("web alone changed: the reload applies it").isEmpty();
        assertThat(StackPlan.appliedAtNextStart(running, StackConfig.parse(file, "app:\n  servers: 3\nweb:\n  listen: 127.0.0.1:8080\n")))
                .singleElement().asString().startsWith("app: changed in webstack.yml, not applied by a reload").contains("./webstack scale");
        assertThat(StackPlan.appliedAtNextStart(running, StackConfig.parse(file, "app:\n  servers: 2\nweb:\n  listen: 127.0.0.1:8080\ndb:\n  replicas: 1\n")))
                .singleElement().asString().startsWith("db: changed in webstack.yml");
    }

    @Test
    void withoutReplicasThereIsOnlyThePrimary() throws Exception {
        StackConfig stack = config("replicas: 0");

        assertThat(StackPlan.components(stack)).extracting(Component::name).startsWith("db", "app-1").doesNotContain("db-replica-1");
        assertThat(StackPlan.database(stack).replicas()).isEmpty();
    }
}
