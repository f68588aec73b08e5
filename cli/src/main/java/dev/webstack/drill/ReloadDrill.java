package dev.webstack.drill;

import dev.webstack.common.config.StackConfig;
import dev.webstack.supervisor.StackState;
import dev.webstack.supervisor.TierReload;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * Reloads the web and DNS tiers' config several times under HTTP load and a steady stream of DNS
 * queries, and counts what failed: the target is none of either. The DNS stream stays under the
 * response rate limit (it is one client network), at {@value #DNS_QUERIES_PER_SECOND} queries/s.
 */
public final class ReloadDrill {
    static final int DNS_QUERIES_PER_SECOND = 100;

    /** What the drill measured. */
    public record Report(UnderLoad.Outcome<List<TierReload.Outcome>> outcome, long dnsSent, long dnsFailed) {

        public boolean pass() {
            return outcome.load().failed() == 0 && dnsFailed == 0 && outcome.action().stream().allMatch(TierReload.Outcome::ok);
        }

        public void print(PrintWriter out) {
            out.println("drill reload: web and DNS config reloaded " + outcome.action().size() / 2 + " times under load");
            UnderLoad.printLoad(out, outcome.load());
            out.printf("  dns       %d queries, %d failed%n", dnsSent, dnsFailed);
            long ok = outcome.action().stream().filter(TierReload.Outcome::ok).count();
            out.printf("  reloads   %d of %d applied%s%n", ok, outcome.action().size(),
                    ok == outcome.action().size() ? "" : ": " + outcome.action().stream().filter(o -> !o.ok()).toList());
            out.println("  verdict   " + (pass() ? "PASS" : "FAIL") + " (target: 0 failed requests and queries)");
            out.flush();
        }
    }

    private ReloadDrill() {}

    public static Report run(StackConfig stack, int reloads, int clients, Duration warmup, Duration maxDuration) throws Exception {
        StackState state = StackState.readLive(stack.runDir())
                .orElseThrow(() -> new IllegalStateException("the stack is not running: start it with ./webstack up -d"));
        LoadGenerator load = new LoadGenerator(URI.create("http://" + stack.web().listen()), stack.site().www(), clients, 0, maxDuration);
        AtomicBoolean stopDns = new AtomicBoolean();
        LongAdder dnsSent = new LongAdder();
        LongAdder dnsFailed = new LongAdder();
        Thread dns = Thread.ofPlatform().name("drill-dns").start(() -> queryLoop(stack, stopDns, dnsSent, dnsFailed, maxDuration));
        UnderLoad.Outcome<List<TierReload.Outcome>> outcome;
        try {
            outcome = UnderLoad.run(load, warmup, () -> {
                List<TierReload.Outcome> all = new ArrayList<>();
                for (int i = 0; i < reloads; i++) {
                    all.addAll(TierReload.reloadWebAndDns(stack, state));
                    Thread.sleep(500);
                }
                return all;
            }, Duration.ofSeconds(2));
        } finally {
            stopDns.set(true);
            dns.join();
        }
        return new Report(outcome, dnsSent.sum(), dnsFailed.sum());
    }

    private static void queryLoop(StackConfig stack, AtomicBoolean stop, LongAdder sent, LongAdder failed, Duration max) {
        try {
            SimpleResolver resolver = new SimpleResolver(InetAddress.getByName(stack.dns().listen().host()));
            resolver.setPort(stack.dns().listen().port());
            resolver.setTimeout(Duration.ofSeconds(2));
            Record question = Record.newRecord(Name.fromString(stack.site().www() + "."), Type.A, DClass.IN);
            long deadline = System.nanoTime() + max.toNanos();
            long interval = 1_000_000_000L / DNS_QUERIES_PER_SECOND;
            long next = System.nanoTime();
            while (!stop.get() && System.nanoTime() < deadline) {
                sent.increment();
                try {
                    Message answer = resolver.send(Message.newQuery(question));
                    if (answer.getRcode() != Rcode.NOERROR || answer.getSection(org.xbill.DNS.Section.ANSWER).isEmpty()) {
                        failed.increment();
                    }
                } catch (java.io.IOException e) {
                    failed.increment();
                }
                next += interval;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (Exception e) {
            failed.increment();
        }
    }
}
