package dev.webstack.common.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGHUP reaches a tier's reload, also when the tier was started with it ignored (nohup). */
class TierRuntimeTest {
    /** A tier in miniature: registers a reload, says whether SIGHUP reaches it, waits for one. */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            CountDownLatch reloaded = new CountDownLatch(1);
            TierRuntime.onSighup("test", reloaded::countDown);
            System.out.println("reachable=" + TierRuntime.sighupReachesReload());
            System.out.flush();
            System.out.println(reloaded.await(5, TimeUnit.SECONDS) ? "reloaded" : "no reload");
        }
    }

    @Test
    void sighupReachesTheReload() throws Exception {
        assertThat(runChild("")).containsExactly("reachable=true", "reloaded");
    }

    @Test
    void aProcessStartedWithSighupIgnoredTakesItBack() throws Exception {
        // As under nohup: the JVM alone would leave SIGHUP ignored, and reload by signal would do nothing.
        assertThat(runChild("trap '' HUP; ")).containsExactly("reachable=true", "reloaded");
    }

    /** Runs {@link Child} from a shell ({@code prefix} first), sends it SIGHUP once it answered, returns its lines. */
    private static List<String> runChild(String prefix) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = prefix + "exec '" + java + "' -cp '" + System.getProperty("java.class.path") + "' '"
                + Child.class.getName() + "'";
        Process child = new ProcessBuilder("sh", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            new ProcessBuilder("kill", "-HUP", Long.toString(child.pid())).start().waitFor(5, TimeUnit.SECONDS);
            String second = out.readLine();
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
            return List.of(String.valueOf(first), String.valueOf(second));
        } finally {
            child.destroyForcibly();
        }
    }
}
