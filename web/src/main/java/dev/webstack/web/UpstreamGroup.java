package dev.webstack.web;

import dev.webstack.common.config.HostPort;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The app servers the proxy sends requests to, and the choice of one for each request. Shared by
 * every connection; the member list is an array replaced as a whole on a change (rare: admin API,
 * reload), so choosing reads one volatile field and takes no lock.
 *
 * <p>Choice order: primary members that take requests (up and active), by the configured
 * {@link Balancer}; then backup members the same way; when none is left, as a last resort, any
 * active member that is {@code down}: answering sometimes beats a sure 502 (nginx does the same
 * when all peers failed).
 *
 * <p>A member that stops taking requests (drain, disable, removal, a new address) has its idle
 * pooled connections closed through {@link #onRetire}; the requests it is answering finish.
 */
final class UpstreamGroup {
    private volatile BalancerSettings settings;
    private volatile Balancer balancer;
    private volatile Member[] members;
    private volatile Consumer<HostPort> retire = address -> {};

    UpstreamGroup(List<HostPort> addresses, BalancerSettings settings) {
        this.settings = settings;
        this.balancer = Balancer.of(settings.algorithm(), settings.slowStart().toNanos());
        List<Member> initial = new ArrayList<>();
        for (int i = 0; i < addresses.size(); i++) {
            // Members from the config are assumed up until a check says otherwise, so that the
            // tier serves as soon as it starts.
            initial.add(new Member(defaultName(i), addresses.get(i), 1, false, Member.Health.UP));
        }
        this.members = initial.toArray(Member[]::new);
    }

    /** The name of the i-th configured app server: {@code app-1} for the first. */
    static String defaultName(int index) {
        return "app-" + (index + 1);
    }

    BalancerSettings settings() {
        return settings;
    }

    /**
     * Balances by {@code next} from now on (a reload): a new {@link Balancer}, so round-robin
     * positions and slow starts begin anew; the members keep their state, except that with active
     * checks turned off a member that is not up is taken as up, since no check would bring it back.
     */
    synchronized void use(BalancerSettings next) {
        settings = next;
        balancer = Balancer.of(next.algorithm(), next.slowStart().toNanos());
        if (!next.healthChecks()) {
            for (Member m : members) {
                m.assumeUp();
            }
        }
    }

    /** Called with the address of a member that no longer takes requests (closes its idle connections). */
    void onRetire(Consumer<HostPort> hook) {
        retire = hook;
    }

    boolean isEmpty() {
        return members.length == 0;
    }

    int size() {
        return members.length;
    }

    List<Member> members() {
        return List.of(members);
    }

    Optional<Member> member(String name) {
        for (Member m : members) {
            if (m.name.equals(name)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** The member for a request, none of {@code tried}; null when none is left. Hot path. */
    Member choose(List<Member> tried) {
        Member[] all = members;
        Member m = balancer.pick(all, tried, false);
        if (m == null) {
            m = balancer.pick(all, tried, true);
        }
        if (m == null) {
            for (Member last : all) {
                if (last.admin() == Member.Admin.ACTIVE && last.health() == Member.Health.DOWN
                        && (tried.isEmpty() || !tried.contains(last))) {
                    return last;
                }
            }
        }
        return m;
    }

    /**
     * Adds a member, or replaces the one of that name. Same address: only the weight changes and
     * its state stays. A new member starts {@code starting} (or {@code up} when active checks are
     * off) and gets requests once its checks pass.
     */
    synchronized Member put(String name, HostPort address, int weight, boolean backup) {
        Optional<Member> old = member(name);
        if (old.isPresent() && old.get().address.equals(address) && old.get().backup == backup) {
            old.get().weight(weight);
            return old.get();
        }
        Member m = new Member(name, address, weight, backup,
                settings.healthChecks() ? Member.Health.STARTING : Member.Health.UP);
        replace(name, m);
        return m;
    }

    /** Adds (or replaces by name) a member made elsewhere, as it is (tests). */
    synchronized void add(Member m) {
        replace(m.name, m);
    }

    /** Removes a member; its in-flight requests finish. Returns false when there is none of that name. */
    synchronized boolean remove(String name) {
        return replace(name, null);
    }

    /**
     * The reload path: the configured members become {@code addresses}, named by position. A member
     * whose name and address stay keeps its state and counters; one that is new or moved starts
     * {@code up} like at start; names configured before and not now are removed. Members added
     * through the admin API under other names stay.
     */
    synchronized void reconfigure(List<HostPort> before, List<HostPort> addresses) {
        for (int i = 0; i < addresses.size(); i++) {
            String name = defaultName(i);
            Optional<Member> old = member(name);
            if (old.isEmpty() || !old.get().address.equals(addresses.get(i))) {
                replace(name, new Member(name, addresses.get(i), 1, false, Member.Health.UP));
            }
        }
        for (int i = addresses.size(); i < before.size(); i++) {
            replace(defaultName(i), null);
        }
    }

    /** Sets the operator's decision for a member; empty when there is none of that name. */
    Optional<Member> admin(String name, Member.Admin decision) {
        Optional<Member> m = member(name);
        m.ifPresent(member -> {
            member.admin(decision);
            if (decision != Member.Admin.ACTIVE) {
                retire.accept(member.address);
            }
        });
        return m;
    }

    /** Replaces (or with null removes) the member of that name, keeping the order; appends when new. */
    private boolean replace(String name, Member next) {
        List<Member> list = new ArrayList<>(List.of(members));
        int at = -1;
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).name.equals(name)) {
                at = i;
            }
        }
        if (at < 0 && next == null) {
            return false;
        }
        Member old = at >= 0 ? (next == null ? list.remove(at) : list.set(at, next)) : null;
        if (at < 0) {
            list.add(next);
        }
        members = list.toArray(Member[]::new);
        if (old != null) {
            old.removed();
        }
        if (old != null && (next == null || !next.address.equals(old.address))
                && list.stream().noneMatch(m -> m.address.equals(old.address))) {
            retire.accept(old.address);
        }
        return true;
    }
}
