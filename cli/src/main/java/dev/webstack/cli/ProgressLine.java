package dev.webstack.cli;

/** One line per component, as {@code up} and {@code status} print them. */
final class ProgressLine {
    private ProgressLine() {}

    static String format(String tier, String name, String address, String state, String detail) {
        return String.format("  %-4s %-12s %-16s %-9s %s", tier, name, address, state, detail);
    }
}
