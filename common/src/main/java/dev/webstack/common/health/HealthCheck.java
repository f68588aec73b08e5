package dev.webstack.common.health;

import java.time.Duration;

/**
 * One real probe of a tier over its own protocol: an HTTP request, a DNS query, a SQL statement.
 * The supervisor uses these to gate start-up and to report {@code status}; nothing waits by sleeping
 * a fixed time.
 */
@FunctionalInterface
public interface HealthCheck {

    /** Probes once within {@code timeout}; never throws. */
    Result check(Duration timeout);

    /** The outcome of one probe: healthy or not, and a short human-readable detail. */
    record Result(boolean healthy, String detail) {
        public static Result ok(String detail) {
            return new Result(true, detail);
        }

        public static Result failed(String detail) {
            return new Result(false, detail);
        }
    }
}
