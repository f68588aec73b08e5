package dev.webstack.e2e;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code webstack} CLI (the jars the launcher runs) against a config of the test's own. */
final class StackProcess {
    static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    private StackProcess() {}

    /** The result of one CLI run. */
    record Run(int exitCode, String output) {}

    static Run webstack(Path config, long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(REPO.resolve("cli/target/webstack-cli.jar") + ":" + REPO.resolve("cli/target/lib") + "/*");
        cmd.add("dev.webstack.cli.Webstack");
        cmd.addAll(List.of(args));
        cmd.add("--config");
        cmd.add(config.toString());
        Path out = Files.createTempFile("webstack-cli", ".out");
        Process p = new ProcessBuilder(cmd)
                .directory(config.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("webstack " + String.join(" ", args) + " did not finish in " + timeoutSeconds
                    + " s:\n" + Files.readString(out, StandardCharsets.UTF_8));
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        Files.deleteIfExists(out);
        return new Run(p.exitValue(), text);
    }

    /**
     * A port free for both TCP and UDP on loopback (the DNS tier needs both), below the kernel's
     * ephemeral range. A port the tests bind minutes after choosing it (app-2 starts after the load
     * drills) must not be one the kernel can hand to an outgoing connection in between: a connected
     * socket on 127.0.0.1:P makes a later listen on that port fail with "Address already in use".
     */
    static int freePort() throws IOException {
        return freePortRange(1);
    }

    /** A port with the next {@code count - 1} ports free too: the app servers' range (app-N on base + N - 1). */
    static int freePortRange(int count) throws IOException {
        int below = ephemeralRangeStart();
        int lowest = Math.max(1024, Math.min(10_000, below / 2));
        if (lowest >= below - count) {
            throw new IOException("no unprivileged ports below the ephemeral range (which starts at " + below + ")");
        }
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(lowest, below - count);
            boolean free = true;
            for (int p = base; p < base + count && free; p++) {
                free = isFree(p);
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no range of " + count + " free ports between " + lowest + " and " + below);
    }

    private static boolean isFree(int port) {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket s = new ServerSocket(port, 1, loopback); DatagramSocket d = new DatagramSocket(port, loopback)) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** The first port of {@code net.ipv4.ip_local_port_range}; Linux's default 32768 where it cannot be read. */
    private static int ephemeralRangeStart() {
        try {
            // Files.readString reads one byte of this procfs file on Java 25; a reader reads it all.
            String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).strip();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException unreadable) {
            return 32_768;
        }
    }

    /**
     * A fresh folder for a test's stack under {@code e2e/target}: a copy of the site's public files
     * ({@code public}) and of the zone file ({@code zones/foobar.com.zone}), for its webstack.yml to name.
     */
    static Path newHome(String name) throws IOException {
        Path home = Files.createDirectories(REPO.resolve("e2e/target/" + name + "-" + System.currentTimeMillis()));
        copyTree(REPO.resolve("site/public"), home.resolve("public"));
        Files.createDirectories(home.resolve("zones"));
        Files.copy(REPO.resolve("zones/foobar.com.zone"), home.resolve("zones/foobar.com.zone"));
        return home;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
