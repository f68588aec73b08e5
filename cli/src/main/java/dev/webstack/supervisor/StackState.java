package dev.webstack.supervisor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * What the running supervisor tells the other commands ({@code status}, {@code down}, {@code up -d}),
 * kept in {@code var/run/stack.json} and replaced atomically on every change.
 *
 * @param supervisorPid the supervisor's pid
 * @param phase         starting, ready, failed or stopping
 * @param controlPort   the supervisor's control API on 127.0.0.1 (scale, deploy), 0 until it listens
 * @param components    the processes, in start order
 * @param database      which server takes the site's writes and which replicate it, as of now
 */
public record StackState(long supervisorPid, String phase, int controlPort, List<Entry> components, Database database) {

    public static final String STARTING = "starting";
    public static final String READY = "ready";
    public static final String FAILED = "failed";
    public static final String STOPPING = "stopping";

    /** One component as last seen by the supervisor; pid 0 while it is not running. */
    public record Entry(String name, String tier, long pid, String address, String state, String summary, int restarts) {}

    /**
     * The database topology: {@code primary} names the component that takes writes ({@code db},
     * or {@code db-replica-1} once promoted; {@code external} in external mode) at
     * {@code primaryAddress}; {@code replicas} the components replicating from it; {@code retired}
     * the former primary that must not run again, with {@code note} saying why and what to do.
     */
    public record Database(String primary, String primaryAddress, List<String> replicas, List<String> retired, String note) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static Path file(Path runDir) {
        return runDir.resolve("stack.json");
    }

    public void write(Path runDir) {
        try {
            Files.createDirectories(runDir);
            Path tmp = runDir.resolve("stack.json.tmp");
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, file(runDir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file(runDir) + ": " + e.getMessage(), e);
        }
    }

    /** The state of a supervisor that is still running, if any. */
    public static Optional<StackState> readLive(Path runDir) {
        Path f = file(runDir);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            StackState s = JSON.readValue(f.toFile(), StackState.class);
            return ProcessHandle.of(s.supervisorPid()).filter(ProcessHandle::isAlive).map(h -> s);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public Optional<Entry> component(String name) {
        return components.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
