package dev.webstack.supervisor;

import dev.webstack.common.config.StackConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** Asks the running supervisor's {@link ControlServer} to scale or deploy, relaying its progress. */
public final class ControlClient {

    private ControlClient() {}

    /** Why an operation could not be asked for at all (nothing running, no control API). */
    public static final class Unavailable extends Exception {
        private final int exitCode;

        Unavailable(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    /**
     * Runs {@code POST pathAndQuery} in the supervisor, printing each progress line to {@code out}
     * (indented) as it arrives; true when the operation ended with {@code OK}.
     */
    public static boolean run(StackConfig stack, String pathAndQuery, PrintWriter out) throws Unavailable, IOException, InterruptedException {
        return run(stack, pathAndQuery, line -> {
            out.println("  " + line);
            out.flush();
        });
    }

    /**
     * As {@link #run(StackConfig, String, PrintWriter)}, for a command that reports steps of its own
     * beside the supervisor's ({@code reload}, {@code reopen}): each line as {@code supervisor: LINE},
     * the final {@code OK} left out.
     */
    public static boolean runAsStep(StackConfig stack, String pathAndQuery, PrintWriter out)
            throws Unavailable, IOException, InterruptedException {
        return run(stack, pathAndQuery, line -> {
            if (!line.strip().equals("OK")) {
                out.println("supervisor: " + line.strip());
                out.flush();
            }
        });
    }

    /** Runs {@code POST pathAndQuery} in the supervisor, giving each progress line to {@code progress} as it arrives. */
    private static boolean run(StackConfig stack, String pathAndQuery, Consumer<String> progress)
            throws Unavailable, IOException, InterruptedException {
        StackState state = StackState.readLive(stack.runDir())
                .orElseThrow(() -> new Unavailable("the stack is not running (start it with ./webstack up -d)", 3));
        if (state.controlPort() <= 0) {
            throw new Unavailable("the supervisor has no control API (is it still starting?)", 1);
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + state.controlPort() + pathAndQuery))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        String last = "";
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                progress.accept(line);
                last = line;
            }
        }
        return last.equals("OK");
    }
}
