package dev.webstack.web;

import java.time.Duration;

/**
 * How the web tier spreads requests over its app servers and decides which of them are serving.
 * {@code webstack.yml} sets them ({@link #from}: web.balance, web.health-check, web.passive-ejection,
 * web.slow-start), and {@code webstack reload} applies a change ({@link UpstreamGroup#use}).
 *
 * @param algorithm      how a member is chosen, default {@link Algorithm#ROUND_ROBIN}
 * @param healthInterval time between two active checks ({@code GET /-/ready}) of a member, default 1 s;
 *                       {@link Duration#ZERO} turns active checks off (every member then counts as healthy)
 * @param healthTimeout  time a check may take before it counts as failed, default 1 s
 * @param rise           consecutive passed checks that bring a {@code down} member back, default 2
 * @param riseNew        consecutive passed checks that admit a member added through the admin API
 *                       ({@code starting}), default 1: a deploy waits for one readiness answer, not two
 * @param fall           consecutive failed checks that take a member out, default 2
 * @param passiveFails   consecutive failed exchanges (connect errors, connections lost before the
 *                       response, timeouts; not 5xx answers) that eject a member until active checks
 *                       bring it back, default 3; 0 turns passive ejection off
 * @param passiveWindow  the failures must fall within this time, default 10 s
 * @param slowStart      time over which a member that comes back ramps from a tenth of its weight to
 *                       all of it, default 10 s; {@link Duration#ZERO} turns it off
 */
public record BalancerSettings(Algorithm algorithm, Duration healthInterval, Duration healthTimeout, int rise,
                               int riseNew, int fall, int passiveFails, Duration passiveWindow, Duration slowStart) {
    /** The readiness endpoint every app server answers: 200 when ready, 503 otherwise. */
    public static final String HEALTH_PATH = "/-/ready";

    /** How a member is chosen among those that take requests. */
    public enum Algorithm {
        /** Each member in turn (weights ignored). */
        ROUND_ROBIN,
        /** Smooth weighted round robin, as nginx does it: a member of weight 3 gets 3 of every 4 requests beside one of weight 1, interleaved. */
        WEIGHTED_ROUND_ROBIN,
        /** The member with the fewest requests in flight per unit of weight. */
        LEAST_CONNECTIONS,
        /** Of two members drawn at random, the one with fewer requests in flight per unit of weight. */
        POWER_OF_TWO_CHOICES
    }

    public BalancerSettings {
        if (healthInterval.isNegative()) {
            throw new IllegalArgumentException("healthInterval: " + healthInterval + " (expected: >= 0)");
        }
        if (healthTimeout.isNegative() || healthTimeout.isZero()) {
            throw new IllegalArgumentException("healthTimeout: " + healthTimeout + " (expected: > 0)");
        }
        if (rise < 1 || riseNew < 1 || fall < 1) {
            throw new IllegalArgumentException("rise/riseNew/fall: " + rise + "/" + riseNew + "/" + fall + " (expected: >= 1)");
        }
        if (passiveFails < 0) {
            throw new IllegalArgumentException("passiveFails: " + passiveFails + " (expected: >= 0)");
        }
        if (passiveWindow.isNegative() || slowStart.isNegative()) {
            throw new IllegalArgumentException("passiveWindow/slowStart: " + passiveWindow + "/" + slowStart + " (expected: >= 0)");
        }
    }

    /** The settings {@code webstack.yml} gives: web.balance, web.health-check, web.passive-ejection, web.slow-start. */
    public static BalancerSettings from(dev.webstack.common.config.WebConfig.Balancing b) {
        Algorithm algorithm = switch (b.balance()) {
            case ROUND_ROBIN -> Algorithm.ROUND_ROBIN;
            case WEIGHTED -> Algorithm.WEIGHTED_ROUND_ROBIN;
            case LEAST_CONN -> Algorithm.LEAST_CONNECTIONS;
            case P2C -> Algorithm.POWER_OF_TWO_CHOICES;
        };
        return new BalancerSettings(algorithm, b.checkInterval(), b.checkTimeout(), b.rise(), b.riseNew(), b.fall(),
                b.ejectAfter(), b.ejectWindow(), b.slowStart());
    }

    public static BalancerSettings defaults() {
        return new BalancerSettings(Algorithm.ROUND_ROBIN, Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 1, 2, 3,
                Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    public BalancerSettings withAlgorithm(Algorithm a) {
        return new BalancerSettings(a, healthInterval, healthTimeout, rise, riseNew, fall, passiveFails, passiveWindow, slowStart);
    }

    public BalancerSettings withHealthInterval(Duration d) {
        return new BalancerSettings(algorithm, d, healthTimeout, rise, riseNew, fall, passiveFails, passiveWindow, slowStart);
    }

    public BalancerSettings withRiseFall(int newRise, int newFall) {
        return new BalancerSettings(algorithm, healthInterval, healthTimeout, newRise, riseNew, newFall, passiveFails, passiveWindow, slowStart);
    }

    public BalancerSettings withPassiveFails(int n) {
        return new BalancerSettings(algorithm, healthInterval, healthTimeout, rise, riseNew, fall, n, passiveWindow, slowStart);
    }

    public BalancerSettings withSlowStart(Duration d) {
        return new BalancerSettings(algorithm, healthInterval, healthTimeout, rise, riseNew, fall, passiveFails, passiveWindow, d);
    }

    boolean healthChecks() {
        return !healthInterval.isZero();
    }
}
