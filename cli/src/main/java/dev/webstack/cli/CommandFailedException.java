package dev.webstack.cli;

/** A command that could not do its job, with the message to print and the exit code to return. */
public final class CommandFailedException extends RuntimeException {
    private final int exitCode;

    public CommandFailedException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
