package dev.webstack.web;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The read timeout of the proxied exchanges of one client connection: one timer, pushed back
 * lazily as Netty's {@code IdleStateHandler} does. An exchange moves its deadline forward on every
 * sign of life from the app server (a field write, {@link ProxyExchange#deadlineNanos()}); the timer,
 * when it fires before the deadline of the exchange it watches, waits again for what is left. On
 * a keep-alive connection it fires about once per {@code web.readTimeout()}, whatever the number
 * of requests, where a timer per exchange, rescheduled on every piece, cost a removal from and an
 * insertion into the event loop's timer queue each time (a tenth of the proxy's CPU in a profile).
 */
final class ExchangeTimer {
    private final EventExecutor executor;
    // No volatile needed: used on the connection's event loop only.
    private ProxyExchange watched;
    private ScheduledFuture<?> pending;
    // The System.nanoTime() at which the pending wait ends: compared with an exchange's deadline
    // without reading the clock, once per proxied request.
    private long pendingDeadline;

    ExchangeTimer(EventExecutor executor) {
        this.executor = executor;
    }

    /** Watches {@code exchange} from now until it is done, instead of the previous one. */
    void watch(ProxyExchange exchange) {
        watched = exchange;
        long deadline = exchange.deadlineNanos();
        // A reload may have shortened web.readTimeout() since the pending wait was set.
        if (pending != null && pendingDeadline - deadline > 0) {
            pending.cancel(false);
            pending = null;
        }
        if (pending == null) {
            schedule(deadline);
        }
    }

    /** Stops watching (the connection closed or stopped speaking HTTP). */
    void stop() {
        watched = null;
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    private void schedule(long deadline) {
        pendingDeadline = deadline;
        pending = executor.schedule(this::fire, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void fire() {
        pending = null;
        ProxyExchange e = watched;
        if (e == null || e.isDone()) {
            watched = null;
            return;
        }
        long deadline = e.deadlineNanos();
        if (deadline - System.nanoTime() > 0) {
            schedule(deadline);
        } else {
            e.timedOut();
        }
    }
}
