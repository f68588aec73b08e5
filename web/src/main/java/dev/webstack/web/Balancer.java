package dev.webstack.web;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses one member among the candidates: members of the asked tier (primary or backup) that take
 * requests and were not tried yet by this request. Runs on the event loops for every proxied
 * request, so it scans a small array and allocates nothing; only smooth weighted round robin, whose
 * state is shared by every loop, takes a (short) lock.
 *
 * <p>Slow start: a member ramping up after coming back counts with its {@link Member#effectiveWeight}
 * (weighted algorithms); round robin skips it with the probability of the missing weight.
 */
abstract sealed class Balancer {
    final long slowStartNanos;

    Balancer(long slowStartNanos) {
        this.slowStartNanos = slowStartNanos;
    }

    static Balancer of(BalancerSettings.Algorithm algorithm, long slowStartNanos) {
        return switch (algorithm) {
            case ROUND_ROBIN -> new RoundRobin(slowStartNanos);
            case WEIGHTED_ROUND_ROBIN -> new SmoothWeighted(slowStartNanos);
            case LEAST_CONNECTIONS -> new LeastConnections(slowStartNanos);
            case POWER_OF_TWO_CHOICES -> new PowerOfTwo(slowStartNanos);
        };
    }

    /** A candidate, or null when none is left. */
    abstract Member pick(Member[] members, List<Member> tried, boolean backup);

    static boolean candidate(Member m, List<Member> tried, boolean backup) {
        return m.backup == backup && m.selectable() && (tried.isEmpty() || !tried.contains(m));
    }

    /** In-flight requests per unit of weight, compared without dividing. */
    static boolean lessLoaded(Member a, double wa, Member b, double wb) {
        return (a.inflight() + 1) * wb < (b.inflight() + 1) * wa;
    }

    static final class RoundRobin extends Balancer {
        private final AtomicInteger next = new AtomicInteger();

        RoundRobin(long slowStartNanos) {
            super(slowStartNanos);
        }

        @Override
        Member pick(Member[] members, List<Member> tried, boolean backup) {
            int n = members.length;
            int start = Math.floorMod(next.getAndIncrement(), Math.max(1, n));
            long now = System.nanoTime();
            Member ramping = null;
            for (int i = 0; i < n; i++) {
                Member m = members[(start + i) % n];
                if (!candidate(m, tried, backup)) {
                    continue;
                }
                double share = m.effectiveWeight(now, slowStartNanos) / m.weight();
                if (share >= 1 || ThreadLocalRandom.current().nextDouble() < share) {
                    return m;
                }
                if (ramping == null) {
                    ramping = m;
                }
            }
            return ramping;
        }
    }

    static final class SmoothWeighted extends Balancer {
        SmoothWeighted(long slowStartNanos) {
            super(slowStartNanos);
        }

        @Override
        Member pick(Member[] members, List<Member> tried, boolean backup) {
            long now = System.nanoTime();
            synchronized (this) {
                Member best = null;
                int total = 0;
                for (Member m : members) {
                    if (!candidate(m, tried, backup)) {
                        continue;
                    }
                    int w = (int) Math.max(1, Math.round(m.effectiveWeight(now, slowStartNanos)));
                    m.currentWeight += w;
                    total += w;
                    if (best == null || m.currentWeight > best.currentWeight) {
                        best = m;
                    }
                }
                if (best != null) {
                    best.currentWeight -= total;
                }
                return best;
            }
        }
    }

    static final class LeastConnections extends Balancer {
        private final AtomicInteger next = new AtomicInteger();

        LeastConnections(long slowStartNanos) {
            super(slowStartNanos);
        }

        @Override
        Member pick(Member[] members, List<Member> tried, boolean backup) {
            int n = members.length;
            // A rotating start spreads ties instead of piling them on the first member.
            int start = Math.floorMod(next.getAndIncrement(), Math.max(1, n));
            long now = System.nanoTime();
            Member best = null;
            double bestWeight = 0;
            for (int i = 0; i < n; i++) {
                Member m = members[(start + i) % n];
                if (!candidate(m, tried, backup)) {
                    continue;
                }
                double w = m.effectiveWeight(now, slowStartNanos);
                if (best == null || lessLoaded(m, w, best, bestWeight)) {
                    best = m;
                    bestWeight = w;
                }
            }
            return best;
        }
    }

    static final class PowerOfTwo extends Balancer {
        PowerOfTwo(long slowStartNanos) {
            super(slowStartNanos);
        }

        @Override
        Member pick(Member[] members, List<Member> tried, boolean backup) {
            int count = 0;
            for (Member m : members) {
                if (candidate(m, tried, backup)) {
                    count++;
                }
            }
            if (count == 0) {
                return null;
            }
            ThreadLocalRandom random = ThreadLocalRandom.current();
            int first = random.nextInt(count);
            Member a = nth(members, tried, backup, first);
            if (count == 1) {
                return a;
            }
            int second = random.nextInt(count - 1);
            Member b = nth(members, tried, backup, second >= first ? second + 1 : second);
            // A member may have changed state since it was counted.
            if (a == null || b == null) {
                return a == null ? b : a;
            }
            long now = System.nanoTime();
            double wa = a.effectiveWeight(now, slowStartNanos);
            double wb = b.effectiveWeight(now, slowStartNanos);
            return lessLoaded(b, wb, a, wa) ? b : a;
        }

        private static Member nth(Member[] members, List<Member> tried, boolean backup, int index) {
            int seen = 0;
            for (Member m : members) {
                if (candidate(m, tried, backup) && seen++ == index) {
                    return m;
                }
            }
            return null;
        }
    }
}
