package dev.webstack.web;

import dev.webstack.common.config.AddressRange;
import dev.webstack.common.config.LocationConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which clients a location serves and how often ({@code allow}, {@code deny},
 * {@code limit-requests}), by the address the connection comes from; checked before the location
 * answers (see {@link LocationHandler}). One per location, shared by every event loop.
 *
 * <p>The rate is kept per client as nginx's {@code limit_req ... nodelay} keeps it, with the
 * generic cell rate algorithm: each client has one number, the time at which its bucket would be
 * empty again; a request moves it one interval ({@code 1 / rate}) later and is refused when that
 * would put it more than {@code burst} intervals ahead of now. IPv4 clients are counted per
 * address; IPv6 clients per /64, the block one host is usually given, so that walking through its
 * addresses does not escape the limit. At most {@value #MAX_CLIENTS} clients are tracked per
 * location; those whose bucket is empty again are forgotten when room is needed, and while every
 * tracked one is still active a new client is answered 503 (as nginx does when its zone is full).
 */
final class ClientAccess {
    static final int MAX_CLIENTS = 100_000;

    /** What a request gets: served, or refused with a status; {@code retryAfterSeconds} with 429. */
    record Verdict(HttpResponseStatus refusal, long retryAfterSeconds) {
        static final Verdict SERVE = new Verdict(null, 0);
        static final Verdict FORBIDDEN = new Verdict(HttpResponseStatus.FORBIDDEN, 0);
        static final Verdict FULL = new Verdict(HttpResponseStatus.SERVICE_UNAVAILABLE, 1);

        boolean served() {
            return refusal == null;
        }
    }

    private final List<AddressRange> allow;
    private final List<AddressRange> deny;
    private final long intervalNanos;  // 0: no rate limit
    private final long toleranceNanos; // burst * interval: how far ahead of now a client's bucket may run
    private final Map<Long, AtomicLong> emptyAt = new ConcurrentHashMap<>();
    private final AtomicBoolean sweeping = new AtomicBoolean();

    private ClientAccess(LocationConfig.Access access) {
        this.allow = access.allow();
        this.deny = access.deny();
        this.intervalNanos = access.rate().map(r -> Math.max(1, Math.round(TimeUnit.SECONDS.toNanos(1) / r.perSecond()))).orElse(0L);
        this.toleranceNanos = access.rate().map(r -> r.burst() * intervalNanos).orElse(0L);
    }

    /** The address checks of {@code access}; null for a location open to every address, which then costs nothing per request. */
    static ClientAccess of(LocationConfig.Access access) {
        return access.allow().isEmpty() && access.deny().isEmpty() && access.rate().isEmpty() ? null : new ClientAccess(access);
    }

    /** Whether the client at {@code address} is served now ({@code nanoTime} from {@link System#nanoTime}). */
    Verdict check(InetAddress address, long nanoTime) {
        if (AddressRange.anyContains(deny, address) || !allow.isEmpty() && !AddressRange.anyContains(allow, address)) {
            return Verdict.FORBIDDEN;
        }
        return intervalNanos == 0 ? Verdict.SERVE : take(key(address), nanoTime);
    }

    private Verdict take(long client, long now) {
        AtomicLong bucket = emptyAt.get(client);
        if (bucket == null) {
            if (emptyAt.size() >= MAX_CLIENTS && !forgetIdle(now)) {
                return Verdict.FULL;
            }
            bucket = emptyAt.computeIfAbsent(client, k -> new AtomicLong(now));
        }
        while (true) {
            long empty = bucket.get();
            long next = Math.max(empty - now, 0) + intervalNanos; // how far ahead of now the bucket would run
            if (next > toleranceNanos + intervalNanos) {
                long wait = next - toleranceNanos - intervalNanos;
                return new Verdict(HttpResponseStatus.TOO_MANY_REQUESTS, Math.max(1, TimeUnit.NANOSECONDS.toSeconds(wait + 999_999_999)));
            }
            if (bucket.compareAndSet(empty, now + next)) {
                return Verdict.SERVE;
            }
        }
    }

    /** Drops the clients whose bucket is empty again (one thread at a time); whether there is room now. */
    private boolean forgetIdle(long now) {
        if (sweeping.compareAndSet(false, true)) {
            try {
                emptyAt.values().removeIf(b -> b.get() - now <= 0);
            } finally {
                sweeping.set(false);
            }
        }
        return emptyAt.size() < MAX_CLIENTS;
    }

    /** A client's key: an IPv4 address as its 32 bits; an IPv6 one by its /64, tagged so that the two never meet. */
    static long key(InetAddress address) {
        byte[] a = address.getAddress();
        if (address instanceof Inet4Address) {
            return ((a[0] & 0xffL) << 24 | (a[1] & 0xffL) << 16 | (a[2] & 0xffL) << 8 | (a[3] & 0xffL)) | 1L << 32;
        }
        long high = 0;
        for (int i = 0; i < 8; i++) {
            high = high << 8 | (a[i] & 0xffL);
        }
        // An IPv6 /64 whose top 31 bits are 0 (::/31, unassigned) could meet an IPv4 key; moving it away keeps them apart.
        return (high >>> 33) == 0 ? high | 1L << 63 : high;
    }

    /** How many clients are tracked (tests). */
    int trackedClients() {
        return emptyAt.size();
    }
}
