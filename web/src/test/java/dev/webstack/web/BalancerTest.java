package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webstack.common.config.HostPort;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The choice of a member, in memory: counts over many picks, never timings. */
class BalancerTest {
    private static Member member(String name, int weight, boolean backup) {
        return new Member(name, new HostPort("127.0.0.1", 9000 + name.hashCode() % 100), weight, backup, Member.Health.UP);
    }

    private static Map<String, Integer> picks(Balancer b, Member[] members, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Member m = b.pick(members, List.of(), false);
            counts.merge(m == null ? "none" : m.name, 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void roundRobinTakesEachInTurn() {
        Member[] ms = {member("a", 1, false), member("b", 5, false), member("c", 1, false)};
        assertThat(picks(Balancer.of(BalancerSettings.Algorithm.ROUND_ROBIN, 0), ms, 300))
                .containsEntry("a", 100).containsEntry("b", 100).containsEntry("c", 100);
    }

    @Test
    void smoothWeightedRoundRobinFollowsTheWeightsAndInterleaves() {
        Member[] ms = {member("a", 3, false), member("b", 1, false)};
        Balancer wrr = Balancer.of(BalancerSettings.Algorithm.WEIGHTED_ROUND_ROBIN, 0);
        assertThat(picks(wrr, ms, 400)).containsEntry("a", 300).containsEntry("b", 100);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            order.append(wrr.pick(ms, List.of(), false).name);
        }
        assertThat(order.toString()).as("smooth: b is not left to the end of the cycle").isEqualTo("aaba");
    }

    @Test
    void leastConnectionsPicksTheLeastLoadedPerWeight() {
        Member a = member("a", 1, false);
        Member b = member("b", 1, false);
        Member c = member("c", 2, false);
        for (int i = 0; i < 3; i++) {
            a.begin();
        }
        b.begin();
        c.begin();
        c.begin();
        // Load per weight: a 4/1, b 2/1, c 3/2 → c.
        Balancer lc = Balancer.of(BalancerSettings.Algorithm.LEAST_CONNECTIONS, 0);
        assertThat(picks(lc, new Member[] {a, b, c}, 50)).containsOnlyKeys("c");
        c.begin();
        c.begin();
        // Now c 5/2 > b 2/1.
        assertThat(picks(lc, new Member[] {a, b, c}, 50)).containsOnlyKeys("b");
    }

    @Test
    void powerOfTwoChoicesNeverPicksTheMostLoadedAndSpreadsOverTheRest() {
        Member busy = member("busy", 1, false);
        for (int i = 0; i < 10; i++) {
            busy.begin();
        }
        Member[] ms = {busy, member("b", 1, false), member("c", 1, false)};
        Map<String, Integer> counts = picks(Balancer.of(BalancerSettings.Algorithm.POWER_OF_TWO_CHOICES, 0), ms, 600);
        assertThat(counts).doesNotContainKey("busy");
        assertThat(counts.get("b")).isPositive();
        assertThat(counts.get("c")).isPositive();
    }

    @Test
    void backupsServeOnlyWhenNoPrimaryIsUp() {
        Member a = member("a", 1, false);
        Member spare = member("spare", 1, true);
        UpstreamGroup group = groupOf(a, spare);
        for (int i = 0; i < 20; i++) {
            assertThat(group.choose(List.of()).name).isEqualTo("a");
        }
        a.checked(false, 1, 1, System.nanoTime());
        assertThat(a.health()).isEqualTo(Member.Health.DOWN);
        for (int i = 0; i < 20; i++) {
            assertThat(group.choose(List.of()).name).isEqualTo("spare");
        }
        group.admin("a", Member.Admin.ACTIVE);
        a.checked(true, 1, 1, System.nanoTime());
        assertThat(group.choose(List.of()).name).isEqualTo("a");
    }

    @Test
    void aRetryNeverGoesBackToATriedMemberAndDownMembersAreTheLastResort() {
        Member a = member("a", 1, false);
        Member b = member("b", 1, false);
        UpstreamGroup group = groupOf(a, b);
        for (int i = 0; i < 10; i++) {
            assertThat(group.choose(List.of(a)).name).isEqualTo("b");
        }
        assertThat(group.choose(List.of(a, b))).isNull();
        a.checked(false, 1, 1, System.nanoTime());
        b.checked(false, 1, 1, System.nanoTime());
        assertThat(group.choose(List.of()).name).as("all down: better a try than a sure 502").isIn("a", "b");
        group.admin("a", Member.Admin.DRAINING);
        group.admin("b", Member.Admin.DISABLED);
        assertThat(group.choose(List.of())).as("drained and disabled members get nothing").isNull();
    }

    @Test
    void consecutiveFailuresEjectAndAnAnswerBreaksTheRun() {
        Member a = member("a", 1, false);
        long window = Duration.ofSeconds(10).toNanos();
        long now = System.nanoTime();
        assertThat(a.failed(3, window, now)).isFalse();
        assertThat(a.failed(3, window, now)).isFalse();
        a.answered();
        assertThat(a.failed(3, window, now)).isFalse();
        assertThat(a.failed(3, window, now)).isFalse();
        assertThat(a.failed(3, window, now)).as("third in a row").isTrue();
        assertThat(a.state()).isEqualTo("down");
        assertThat(a.failures()).isEqualTo(5);
        a.checked(true, 2, 2, now);
        assertThat(a.state()).as("one passed check of rise 2").isEqualTo("down");
        a.checked(true, 2, 2, now);
        assertThat(a.state()).isEqualTo("up");
    }

    @Test
    void slowStartSendsAReturningMemberLessThanItsShare() {
        Member a = member("a", 1, false);
        Member b = member("b", 1, false);
        b.checked(false, 1, 1, System.nanoTime());
        b.checked(true, 1, 1, System.nanoTime());
        // A ramp of an hour: b stays near a tenth of its weight for the whole test.
        Balancer rr = Balancer.of(BalancerSettings.Algorithm.ROUND_ROBIN, Duration.ofHours(1).toNanos());
        Map<String, Integer> counts = picks(rr, new Member[] {a, b}, 1000);
        assertThat(counts.getOrDefault("b", 0)).isLessThan(400);
        assertThat(counts.get("a")).isGreaterThan(600);
    }

    private static UpstreamGroup groupOf(Member... ms) {
        UpstreamGroup group = new UpstreamGroup(List.of(), BalancerSettings.defaults().withHealthInterval(Duration.ZERO));
        for (Member m : ms) {
            group.add(m);
        }
        return group;
    }
}
