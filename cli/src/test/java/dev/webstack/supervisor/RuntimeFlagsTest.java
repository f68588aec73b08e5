package dev.webstack.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.netty.util.internal.PlatformDependent;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flags the supervisor gives every tier JVM: accepted by this Java, and Netty runs at full speed with them. */
class RuntimeFlagsTest {

    /** Run in a child JVM with the flags: loads Netty's native library and says whether Netty uses Unsafe. */
    static final class Probe {
        public static void main(String[] args) {
            System.out.println("epoll=" + Epoll.isAvailable() + " unsafe=" + PlatformDependent.hasUnsafe());
        }
    }

    @Test
    void onlyAJavaThatKnowsThemGetsThem() {
        assertThat(Supervisor.runtimeFlags(21)).isEmpty();
        assertThat(Supervisor.runtimeFlags(25)).containsExactly(
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");
    }

    @Test
    void classDataSharingFromJava19_withTheAotTagFrom24_forJarsOnly() {
        Path archive = Path.of("/srv/stack/var/cds/dns.jsa");
        String jars = "/srv/webstack/cli/target/webstack-cli.jar:/srv/webstack/cli/target/lib/netty-common.jar";
        assertThat(Supervisor.classDataSharing(archive, jars, 17)).isEmpty();
        assertThat(Supervisor.classDataSharing(archive, jars, 21)).containsExactly(
                "-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=/srv/stack/var/cds/dns.jsa", "-Xlog:cds*=off");
        assertThat(Supervisor.classDataSharing(archive, jars, 25)).containsExactly(
                "-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=/srv/stack/var/cds/dns.jsa", "-Xlog:cds*=off", "-Xlog:aot*=off");
        assertThat(Supervisor.classDataSharing(archive, "/srv/webstack/cli/target/classes:" + jars, 25)).as("a directory").isEmpty();
        // The supervisor names an archive (and deletes the stale ones) only where one is used.
        assertThat(Supervisor.archivable(jars, 21)).isTrue();
        assertThat(Supervisor.archivable(jars, 17)).isFalse();
        assertThat(Supervisor.archivable("/srv/webstack/cli/target/classes:" + jars, 25)).isFalse();
    }

    @Test
    void theArchiveIsNamedForItsJarsAndAnOldOneGoes(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("a.jar"), "one");
        Path archives = dir.resolve("cds");
        Path first = Supervisor.classArchive(archives, "dns", jar.toString());
        assertThat(first.getFileName().toString()).matches("dns-[0-9a-f]{12}\\.jsa");
        assertThat(Supervisor.classArchive(archives, "dns", jar.toString())).as("the same jar").isEqualTo(first);
        Files.writeString(first, "archive");
        Files.writeString(archives.resolve("web-000000000000.jsa"), "another tier's");

        Files.writeString(jar, "rebuilt"); // another size
        Path second = Supervisor.classArchive(archives, "dns", jar.toString());
        assertThat(second).isNotEqualTo(first);
        assertThat(first).as("the old archive is deleted").doesNotExist();
        assertThat(archives.resolve("web-000000000000.jsa")).as("other tiers' stay").exists();
    }

    @Test
    void aTierJvmWritesItsClassArchiveAtExitAndStartsFromItQuietly(@TempDir Path dir) throws Exception {
        // The probe from a jar, with the jars of this test's class path: only jars can be archived.
        Path probeJar = dir.resolve("probe.jar");
        String entry = Probe.class.getName().replace('.', '/') + ".class";
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(probeJar));
             InputStream in = Probe.class.getClassLoader().getResourceAsStream(entry)) {
            jar.putNextEntry(new JarEntry(entry));
            in.transferTo(jar);
        }
        String classPath = Stream.concat(Stream.of(probeJar.toString()),
                Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator)).filter(e -> e.endsWith(".jar")))
                .collect(Collectors.joining(File.pathSeparator));
        Path archive = dir.resolve("probe.jsa");
        List<String> flags = new ArrayList<>(Supervisor.runtimeFlags(Runtime.version().feature()));
        flags.addAll(Supervisor.classDataSharing(archive, classPath, Runtime.version().feature()));
        assertThat(flags).contains("-XX:+AutoCreateSharedArchive");

        String first = probe(flags, classPath);
        assertThat(archive).as("written as the first run exits").isRegularFile();
        String second = probe(flags, classPath);
        for (String out : List.of(first, second)) {
            assertThat(out).contains("unsafe=true").doesNotContainIgnoringCase("warning").doesNotContainIgnoringCase("error");
        }
        // -Xshare:on fails the start unless the archive maps: it is one this Java can use.
        List<String> strict = new ArrayList<>(Supervisor.runtimeFlags(Runtime.version().feature()));
        strict.addAll(List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive, "-Xlog:cds*=off"));
        assertThat(probe(strict, classPath)).contains("epoll=");
    }

    /** Runs {@link Probe} with {@code flags}; its output, once it exited 0. */
    private static String probe(List<String> flags, String classPath) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", classPath, Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void aTierJvmStartsWithThemWithoutWarningsAndNettyUsesUnsafe() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Supervisor.runtimeFlags(Runtime.version().feature()));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("unsafe=true").doesNotContain("WARNING");
    }
}
