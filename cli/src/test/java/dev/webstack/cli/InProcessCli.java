package dev.webstack.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** The {@code webstack} command run in process, as a newcomer's shell would run it, with what it prints kept for the test. */
final class InProcessCli {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    /** Runs {@code webstack args...}; its exit code. */
    int run(String... args) {
        CommandLine cmd = Webstack.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }
}
