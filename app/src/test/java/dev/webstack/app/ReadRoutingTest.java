package dev.webstack.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReadRoutingTest {
    static final Duration MAX_LAG = Duration.ofSeconds(2);

    static Map<String, String> status(String io, String sql, String behind) {
        java.util.HashMap<String, String> s = new java.util.HashMap<>();
        s.put("Slave_IO_Running", io);
        s.put("Slave_SQL_Running", sql);
        s.put("Seconds_Behind_Master", behind);
        return s;
    }

    @Test
    void aReplicaThatKeepsUpServesReads() {
        assertThat(ReadRouting.decide(status("Yes", "Yes", "0"), true, MAX_LAG))
                .isEqualTo(new ReadRouting.Route(true, "0 s behind"));
        assertThat(ReadRouting.decide(status("Yes", "Yes", "2"), true, MAX_LAG).toReplica()).as("at the bound").isTrue();
    }

    @Test
    void aReplicaTooFarBehindDoesNot() {
        assertThat(ReadRouting.decide(status("Yes", "Yes", "3"), true, MAX_LAG))
                .isEqualTo(new ReadRouting.Route(false, "replica 3 s behind, more than 2 s"));
    }

    @Test
    void stoppedOrBrokenReplicationSendsReadsToThePrimary() {
        assertThat(ReadRouting.decide(status("Connecting", "Yes", null), true, MAX_LAG))
                .as("the primary is gone: what the replica has may be old")
                .isEqualTo(new ReadRouting.Route(false, "replication not running: IO Connecting, SQL Yes"));
        assertThat(ReadRouting.decide(status("Yes", "No", null), true, MAX_LAG).toReplica()).isFalse();
        assertThat(ReadRouting.decide(status("Yes", "Yes", null), true, MAX_LAG))
                .isEqualTo(new ReadRouting.Route(false, "replica lag unknown"));
        assertThat(ReadRouting.decide(status("Yes", "Yes", "-1"), true, MAX_LAG).toReplica()).isFalse();
    }

    @Test
    void aPromotedReplicaIsThePrimary_aReadOnlyOneFollowingNothingIsNot() {
        assertThat(ReadRouting.decide(Map.of(), false, MAX_LAG))
                .isEqualTo(new ReadRouting.Route(true, "replica was promoted: it is the primary"));
        assertThat(ReadRouting.decide(Map.of(), true, MAX_LAG).toReplica()).isFalse();
    }
}
