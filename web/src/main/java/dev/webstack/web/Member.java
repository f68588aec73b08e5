package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One app server of the upstream group: its identity, what the operator decided about it
 * ({@link Admin}), what the checks found ({@link Health}) and its counters.
 *
 * <p>The hot path (choosing a member, starting and ending an exchange) only reads volatile fields
 * and touches atomic counters; state changes (checks, ejection, admin calls) are rare and
 * synchronized on the member.
 */
final class Member {
    /** The operator's decision: in rotation, or not taking new requests. */
    enum Admin { ACTIVE, DRAINING, DISABLED }

    /** What the active and passive checks say. */
    enum Health { STARTING, UP, DOWN }

    final String name;
    final HostPort address;
    final boolean backup;
    private volatile int weight;
    private volatile Admin admin = Admin.ACTIVE;
    private volatile Health health;
    private volatile boolean healthy;
    // When the member last became UP after being down or starting; 0 = no slow start.
    private volatile long rampFrom;
    private volatile boolean removed;
    private final AtomicInteger inflight = new AtomicInteger();
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    final AtomicBoolean checking = new AtomicBoolean();
    // Smooth weighted round robin's running weight, guarded by that balancer's lock.
    int currentWeight;
    // Guarded by this.
    private int passed;
    private int failed;
    private int passiveFailed;
    private long passiveSince;
    // Written on failures only, read on every response: a plain volatile, not a lock.
    private volatile boolean passiveDirty;

    Member(String name, HostPort address, int weight, boolean backup, Health initial) {
        if (weight < 1) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
        }
        this.name = name;
        this.address = address;
        this.weight = weight;
        this.backup = backup;
        this.health = initial;
        this.healthy = initial == Health.UP;
    }

    int weight() {
        return weight;
    }

    void weight(int w) {
        if (w < 1) {
            throw new IllegalArgumentException("weight: " + w + " (expected: >= 1)");
        }
        weight = w;
    }

    Admin admin() {
        return admin;
    }

    Health health() {
        return health;
    }

    boolean healthy() {
        return healthy;
    }

    int inflight() {
        return inflight.get();
    }

    long requests() {
        return requests.sum();
    }

    long failures() {
        return failures.sum();
    }

    /** Takes new requests: in rotation and up. */
    boolean selectable() {
        return admin == Admin.ACTIVE && health == Health.UP;
    }

    /** May keep idle pooled connections: it will get requests again soon. */
    boolean pooled() {
        return admin == Admin.ACTIVE && !removed;
    }

    /** No longer in the group (removed or replaced): its connections are not kept. */
    void removed() {
        removed = true;
    }

    /** The state the admin API reports: the operator's decision first, then health. */
    String state() {
        Admin a = admin;
        return (a == Admin.ACTIVE ? health.name() : a.name()).toLowerCase(Locale.ROOT);
    }

    /** The weight to balance with now: during slow start it ramps from a tenth of it to all of it. */
    double effectiveWeight(long now, long slowStartNanos) {
        long from = rampFrom;
        if (from == 0 || slowStartNanos == 0) {
            return weight;
        }
        long elapsed = now - from;
        if (elapsed >= slowStartNanos) {
            rampFrom = 0;
            return weight;
        }
        return weight * Math.max(0.1, (double) elapsed / slowStartNanos);
    }

    void begin() {
        inflight.incrementAndGet();
        requests.increment();
    }

    void end() {
        inflight.decrementAndGet();
    }

    synchronized void admin(Admin next) {
        admin = next;
    }

    /** Taken as up without a check: active checks were turned off (a reload), nothing else would bring it up. */
    synchronized void assumeUp() {
        if (health != Health.UP) {
            health = Health.UP;
            healthy = true;
            resetPassive();
        }
    }

    /** An active check's result; {@code rise} is how many passes in a row bring it up. */
    synchronized void checked(boolean ok, int rise, int fall, long now) {
        healthy = ok;
        if (ok) {
            failed = 0;
            passed++;
            if (health != Health.UP && passed >= rise) {
                health = Health.UP;
                rampFrom = now == 0 ? 1 : now;
                resetPassive();
            }
        } else {
            passed = 0;
            failed++;
            if (health == Health.UP && failed >= fall) {
                health = Health.DOWN;
            }
        }
    }

    /**
     * An exchange with it failed without an answer (connect error, connection lost, timeout).
     * Returns true when this ejected it: {@code fails} in a row within {@code windowNanos}.
     */
    boolean failed(int fails, long windowNanos, long now) {
        failures.increment();
        if (fails == 0) {
            return false;
        }
        synchronized (this) {
            passiveDirty = true;
            if (passiveFailed == 0 || now - passiveSince > windowNanos) {
                passiveFailed = 0;
                passiveSince = now;
            }
            passiveFailed++;
            if (passiveFailed >= fails && health == Health.UP) {
                health = Health.DOWN;
                // Active checks must pass `rise` times from now on to bring it back.
                passed = 0;
                resetPassive();
                return true;
            }
            return false;
        }
    }

    /** An exchange got an answer: the run of passive failures is broken. */
    void answered() {
        if (passiveDirty) {
            synchronized (this) {
                resetPassive();
            }
        }
    }

    private void resetPassive() {
        passiveFailed = 0;
        passiveDirty = false;
    }

    @Override
    public String toString() {
        return name + "(" + address + ", " + state() + ")";
    }
}
