package dev.webstack.cli;

import java.util.Optional;
import picocli.CommandLine.Option;

/** Options of a tier run in the foreground; the supervisor passes its pid so the tier stops if it dies. */
final class TierOptions {

    @Option(names = "--supervisor-pid", hidden = true,
            description = "Set by the supervisor: stop when this process is gone, and leave Ctrl-C to it.")
    Long supervisorPid;

    Optional<Long> supervisor() {
        return Optional.ofNullable(supervisorPid);
    }
}
