package dev.webstack.supervisor;

import dev.webstack.common.config.HostPort;
import dev.webstack.common.health.HealthCheck;
import java.time.Duration;
import java.util.List;

/**
 * One process the supervisor runs: a tier's command line, where it listens, and how to tell that it
 * is ready.
 *
 * @param name         {@code db}, {@code app-1}, {@code web}, {@code dns}
 * @param tier         which tier it belongs to
 * @param address      where it listens (the DNS tier listens on UDP and TCP here)
 * @param tierArgs     the {@code webstack} arguments that run it in the foreground, e.g. {@code app --name app-1}
 * @param jvmOptions   JVM options for its process
 * @param health       the real probe that gates it: SQL, HTTP or a DNS query
 * @param startTimeout how long it may take to become healthy
 * @param stopTimeout  how long it may take to stop after SIGTERM before it is killed
 * @param summary      what it serves, for the progress line, e.g. {@code static: site/public}
 */
public record Component(
        String name,
        Tier tier,
        HostPort address,
        List<String> tierArgs,
        List<String> jvmOptions,
        HealthCheck health,
        Duration startTimeout,
        Duration stopTimeout,
        String summary) {

    public Component {
        tierArgs = List.copyOf(tierArgs);
        jvmOptions = List.copyOf(jvmOptions);
    }
}
