package dev.webstack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.webstack.common.config.HostPort;
import dev.webstack.common.config.StackConfig;
import dev.webstack.common.health.HealthCheck;
import dev.webstack.supervisor.Component;
import dev.webstack.supervisor.StackPlan;
import dev.webstack.supervisor.StackState;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {
            "Show each component: its pid, address and health, probed now over its own protocol.",
            "Exit code: 0 all healthy, 1 some unhealthy, 3 not running."
        })
final class StatusCommand implements Callable<Integer> {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    @Mixin
    ConfigOption config;

    @Option(names = "--json", description = "Print a JSON array, one object per component: name, tier, pid, address, healthy, detail.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** One component's status, as printed. */
    record Row(String name, String tier, Long pid, String address, boolean healthy, String state, String detail) {}

    /**
     * The components to report: those the running supervisor has (scale and deploy change the app
     * servers), at the addresses it has them on, else those the config asks for.
     */
    static List<Component> running(StackConfig stack, Optional<StackState> state) {
        List<Component> planned = StackPlan.components(stack);
        if (state.isEmpty()) {
            return planned;
        }
        List<Component> out = new ArrayList<>();
        for (StackState.Entry e : state.get().components()) {
            Component c = planned.stream().filter(p -> p.name().equals(e.name())).findFirst()
                    .orElseGet(() -> StackPlan.appServer(stack, e.name(), stack.app().codebase()));
            // Where it runs, not where the file would start it: a reload the tier refused moved nothing.
            out.add(e.address() == null ? c : StackPlan.runningAt(stack, c, HostPort.parse(e.address())));
        }
        return out;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        StackConfig stack = config.load();
        Optional<StackState> state = StackState.readLive(stack.runDir());
        List<Component> components = running(stack, state);
        List<CompletableFuture<HealthCheck.Result>> probes = components.stream()
                .map(c -> CompletableFuture.supplyAsync(() -> c.health().check(PROBE_TIMEOUT)))
                .toList();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < components.size(); i++) {
            Component c = components.get(i);
            Optional<StackState.Entry> entry = state.flatMap(s -> s.component(c.name()));
            Long pid = entry.map(StackState.Entry::pid).filter(p -> p > 0).orElse(null);
            HealthCheck.Result health = probes.get(i).join();
            String st = entry.map(StackState.Entry::state).orElse("stopped");
            rows.add(new Row(c.name(), c.tier().label(), pid, c.address().toString(), health.healthy(), st, health.detail()));
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        } else {
            out.println(state.map(s -> "webstack: supervisor pid " + s.supervisorPid() + ", " + s.phase())
                    .orElse("webstack is not running"));
            out.println(String.format("  %-4s %-12s %-16s %-9s %-8s %s", "TIER", "NAME", "ADDRESS", "HEALTH", "PID", "DETAIL"));
            for (Row r : rows) {
                out.println(String.format("  %-4s %-12s %-16s %-9s %-8s %s", r.tier(), r.name(), r.address(),
                        r.healthy() ? "healthy" : "DOWN", r.pid() == null ? "-" : r.pid(), r.detail()));
            }
        }
        out.flush();
        if (state.isEmpty()) {
            return 3;
        }
        return rows.stream().allMatch(Row::healthy) ? 0 : 1;
    }
}
