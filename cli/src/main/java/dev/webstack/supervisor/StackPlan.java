package dev.webstack.supervisor;

import dev.webstack.common.config.AppConfig;
import dev.webstack.common.config.DbConfig;
import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.health.HealthCheck;
import dev.webstack.common.health.HttpHealthCheck;
import dev.webstack.db.DbServer;
import dev.webstack.db.JdbcHealthCheck;
import dev.webstack.db.ReplicaHealthCheck;
import dev.webstack.dns.DnsHealthCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The processes a config asks for, in start order: db, db-replica-1 (with {@code db.replicas: 1}),
 * app-1..N, web, dns. In external database mode there is no db process; the app servers' readiness
 * still proves the database answers.
 *
 * <p>After {@code webstack db promote} (the replica's data dir holds the promotion marker, see
 * {@link DbServer#promote}) the plan has no {@code db}: the old primary refuses to start until it
 * is rebuilt, and {@code db-replica-1}, writable, is the primary ({@link #database}).
 *
 * <p>The serving tiers (app, web, dns) run the parallel collector: their live data is small, so
 * its young collections are short, and on a 2-core machine it leaves more CPU to requests than
 * G1's concurrent work (G1's young pauses reached 15–52 ms on the DNS tier under CPU contention).
 * The benchmarks in {@code bench/} start webstack with the same flags.
 */
public final class StackPlan {
    /** The DNS tier's heap for small zones ({@code bench/dns/run.sh} gives it the same). */
    static final int DNS_MIN_HEAP_MB = 256;

    private StackPlan() {}

    public static List<Component> components(StackConfig stack) {
        List<Component> out = new ArrayList<>();
        DbConfig db = stack.db();
        boolean promoted = promoted(db);
        if (db.mode() == DbConfig.Mode.EMBEDDED && !promoted) {
            out.add(new Component(PRIMARY, Tier.DB, db.listen(), List.of("db"),
                    // The Java side only supervises mariadbd: it needs little heap and no optimizing JIT.
                    List.of("-Xmx96m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                    new JdbcHealthCheck(db), Duration.ofSeconds(120), Duration.ofSeconds(60),
                    "data in " + relative(stack, db.dataDir())));
        }
        if (db.mode() == DbConfig.Mode.EMBEDDED) {
            for (int n = 1; n <= db.replicas(); n++) {
                DbConfig replica = db.replica(n);
                out.add(new Component("db-replica-" + n, Tier.DB, replica.listen(), List.of("db", "--replica", String.valueOf(n)),
                        List.of("-Xmx96m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                        // A new replica first copies the primary (mariadb-dump | mariadb): minutes for a large database.
                        new ReplicaHealthCheck(db, n), Duration.ofSeconds(600), Duration.ofSeconds(60),
                        (promoted ? "promoted: the primary, " : "GTID replica of db, ") + "data in " + relative(stack, replica.dataDir())));
            }
        }
        AppConfig app = stack.app();
        for (AppConfig.Instance instance : app.instances()) {
            out.add(appServer(stack, instance.name(), app.codebase()));
        }
        List<String> upstreams = stack.web().upstreams().isEmpty()
                ? app.instances().stream().map(AppConfig.Instance::name).toList()
                : stack.web().upstreams().stream().map(Object::toString).toList();
        out.add(new Component("web", Tier.WEB, stack.web().listen(), List.of("web"), WEB_JVM_OPTIONS,
                webHealth(stack, stack.web().listen()),
                Duration.ofSeconds(60), Duration.ofSeconds(20),
                "static: " + relative(stack, stack.web().publicRoot()) + ", upstream: " + String.join(", ", upstreams)
                        + stack.web().tls().map(t -> ", https: " + t.listen()).orElse("")));
        out.add(new Component("dns", Tier.DNS, stack.dns().listen(), List.of("dns"),
                List.of(dnsHeap(stack.dns()), "-XX:+UseParallelGC"),
                dnsHealth(stack, stack.dns().listen()),
                Duration.ofSeconds(60), Duration.ofSeconds(10),
                "zones: " + String.join(", ", stack.dns().zones().stream().map(z -> z.origin()).toList())));
        return List.copyOf(out);
    }

    /**
     * {@code c} where it runs: for the web and DNS tiers, {@code address} (the supervisor's record,
     * which a reload of the web tier moves, while the config file may say where the next start
     * goes) with its health check there; other components as they are.
     */
    public static Component runningAt(StackConfig stack, Component c, HostPort address) {
        if (address.equals(c.address()) || (c.tier() != Tier.WEB && c.tier() != Tier.DNS)) {
            return c;
        }
        return new Component(c.name(), c.tier(), address, c.tierArgs(), c.jvmOptions(),
                c.tier() == Tier.WEB ? webHealth(stack, address) : dnsHealth(stack, address), c.startTimeout(), c.stopTimeout(), c.summary());
    }

    /**
     * The DNS tier's heap: 256 MB, or more for large zone files. A zone takes about 30 times its
     * file's size in memory (a file of 2.4 MB with 100,009 records: 69 MB of live heap, more of it
     * for the records than for the precompiled answers), and a reload reads the new version while
     * the old one is served: about 60 times the files' size, and 110 with room for the collector. A
     * file that cannot be read counts nothing (the tier says why when it starts); {@code $INCLUDE}d
     * files are not counted.
     */
    static String dnsHeap(DnsConfig dns) {
        long bytes = 0;
        for (DnsConfig.Zone zone : dns.zones()) {
            try {
                bytes += Files.size(zone.file());
            } catch (IOException e) {
                // counted as empty
            }
        }
        long megabytes = Math.max(DNS_MIN_HEAP_MB, 64 + (bytes * 110 >> 20));
        return "-Xmx" + megabytes + "m";
    }

    private static HealthCheck webHealth(StackConfig stack, HostPort address) {
        return new HttpHealthCheck(address, stack.site().www(), "/-/health");
    }

    private static HealthCheck dnsHealth(StackConfig stack, HostPort address) {
        return new DnsHealthCheck(address, stack.site().domain());
    }

    /**
     * The web tier's memory, bounded: a heap of a fixed 144 MB, so that the tier's resident size
     * cannot grow with the load's duration. The parallel collector grows the old generation
     * rather than collect it when a promotion does not fit, and under HTTP/2 it promotes
     * steadily: a young collection keeps 2-7 MB where 0.6 MB more than at rest is live (dead
     * objects promoted earlier point to younger ones, which a young collection keeps). With
     * {@code -Xms128m -Xmx256m} the pages the old generation touched grew with the load, and a
     * full benchmark ended with 10,000 idle connections at 351-364 MB in two runs of four
     * (bound: 300 MB). With the heap fixed, the old generation is collected when it is full
     * instead, about every 10 s under HTTP/2 at full speed (some 45 ms each; the live set is
     * 15 MB, and an idle connection holds some 4.7 KB more).
     * A young generation of 48 MB with survivor spaces of 8 MB; a smaller one promotes more, a
     * larger one leaves less room for idle connections: 19,000 of them (web.max-connections'
     * default is 20,000) were held in 252 MB with one full collection (150 ms, 89 MB live) while
     * they were opened. Besides the heap, some 115 MB: without tiered compilation (C2 alone, after
     * the interpreter's profile) the code cache holds about 10 MB where it held 36 MB of C1 and C2
     * code after a benchmark, at the same speed once warm (bench/README.md); and the JVM hands
     * the C heap's freed pages back every 5 s (BoringSSL's, the compilers' arenas).
     * {@code webstack web --print-jvm-options} prints them, for {@code bench/web/run.sh}.
     */
    public static final List<String> WEB_JVM_OPTIONS = List.of("-Xms144m", "-Xmx144m", "-XX:+UseParallelGC", "-Xmn48m",
            "-XX:-UseAdaptiveSizePolicy", "-XX:SurvivorRatio=4", "-XX:-TieredCompilation", "-XX:TrimNativeHeapInterval=5000");

    static final String PRIMARY = "db";
    static final String REPLICA = "db-replica-1";

    /** Whether replica 1 was promoted: it takes the writes, and the old primary is retired. */
    static boolean promoted(DbConfig db) {
        return db.mode() == DbConfig.Mode.EMBEDDED && db.replicas() > 0 && !DbServer.writableAddress(db).equals(db.listen());
    }

    /** The database topology the config and the promotion marker describe, for {@code stack.json}. */
    static StackState.Database database(StackConfig stack) {
        DbConfig db = stack.db();
        if (db.mode() == DbConfig.Mode.EXTERNAL) {
            return new StackState.Database("external", DbServer.writableAddress(db).toString(), List.of(), List.of(), "");
        }
        if (promoted(db)) {
            return new StackState.Database(REPLICA, db.replica(1).listen().toString(), List.of(), List.of(PRIMARY),
                    "replica 1 was promoted (" + relative(stack, db.replica(1).dataDir().resolve(DbServer.PROMOTED_MARKER))
                            + "); db on " + db.listen() + " is retired and is not restarted: rebuild it as docs/DATABASE.md says");
        }
        return new StackState.Database(PRIMARY, db.listen().toString(), db.replicas() > 0 ? List.of(REPLICA) : List.of(), List.of(), "");
    }

    /** App server {@code name} (app-N) hosting {@code codebase}; deploys and scaling make more of these. */
    public static Component appServer(StackConfig stack, String name, Path codebase) {
        AppConfig app = stack.app();
        AppConfig.Instance instance = app.instance(name);
        List<String> args = codebase.equals(app.codebase())
                ? List.of("app", "--name", name)
                : List.of("app", "--name", name, "--codebase", codebase.toString());
        return new Component(name, Tier.APP, instance.address(), args,
                List.of("-Xmx512m", "-XX:+UseParallelGC"),
                new HttpHealthCheck(instance.address(), instance.address().host(), "/-/ready"),
                Duration.ofSeconds(90), app.shutdownTimeout().plusSeconds(10),
                "codebase " + relative(stack, codebase));
    }

    /**
     * What a reload leaves for the next start: the {@code app} and {@code db} sections, which the
     * supervisor reads only when it starts the stack (a reload applies {@code web} and {@code dns},
     * each tier its own), one line per changed section between the config the stack runs
     * ({@code running}) and the file as it is {@code now}; none when they are the same.
     */
    static List<String> appliedAtNextStart(StackConfig running, StackConfig now) {
        String left = " changed in " + now.file().getFileName() + ", not applied by a reload: it applies when the stack starts again"
                + " (./webstack down, then up)";
        List<String> out = new ArrayList<>();
        if (!running.app().equals(now.app())) {
            out.add("app:" + left + "; ./webstack scale and ./webstack deploy change the app tier now");
        }
        if (!running.db().equals(now.db())) {
            out.add("db:" + left);
        }
        return out;
    }

    /** The web tier's admin API address (upstream pool changes), loopback only. */
    public static HostPort webAdmin(StackConfig stack) {
        return stack.web().admin();
    }

    static String relative(StackConfig stack, Path p) {
        return p.startsWith(stack.home()) ? stack.home().relativize(p).toString() : p.toString();
    }
}
