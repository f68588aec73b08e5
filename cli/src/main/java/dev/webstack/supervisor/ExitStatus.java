package dev.webstack.supervisor;

/** Says why a process ended, from its exit code: a JVM reports death by signal N as 128 + N. */
final class ExitStatus {
    private static final String[] SIGNALS = {
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
        "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    };

    private ExitStatus() {}

    static String describe(int code) {
        if (code > 128 && code - 128 < SIGNALS.length) {
            return "killed by " + SIGNALS[code - 128] + " (exit code " + code + ")";
        }
        return code == 0 ? "exited normally (exit code 0)" : "exited with code " + code;
    }
}
