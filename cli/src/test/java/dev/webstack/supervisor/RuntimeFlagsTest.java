package dev.webstack.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.netty.util.internal.PlatformDependent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

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
