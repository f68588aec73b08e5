package dev.webstack.dns;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/**
 * The DNS tier's event loops: Netty's, except that a loop with nothing scheduled sleeps without a
 * timeout, as NSD's server processes do ({@code epoll_wait(-1)}).
 *
 * <p>Netty 4.2's loop tells its I/O handler that the next scheduled task is due in one second when
 * none is scheduled ({@code SingleThreadEventExecutor.deadlineNanos()}), where the handler's
 * contract ({@code IoHandlerContext.deadlineNanos()}) says -1. The epoll handler then passes a new
 * one-second timeout to every {@code epoll_pwait2} (the io_uring handler submits a timeout
 * request before each wait), and the kernel arms and cancels a timer at
 * each sleep: after each answer, between the {@code sendto} that wakes the client and the moment
 * the loop's CPU is free to run it. Nothing on these loops is scheduled while they only answer UDP
 * (the TCP connections' idle timers are), so this loop reports -1 then, and the handler sleeps
 * until a datagram or a task wakes it.
 *
 * <p>And each loop runs, at the end of every round (I/O, then tasks), what was registered with
 * {@link DnsEventLoop#afterEachRound}: {@link UdpRingHandle} sends its answers there, after the
 * completions of the round, without a task queued per round.
 */
final class DnsEventLoopGroup extends MultiThreadIoEventLoopGroup {

    DnsEventLoopGroup(int threads, ThreadFactory threadFactory, IoHandlerFactory io) {
        super(threads, threadFactory, io);
    }

    @Override
    protected IoEventLoop newChild(Executor executor, IoHandlerFactory io, Object... args) {
        return new DnsEventLoop(this, executor, io);
    }

    /**
     * A loop whose deadline is -1 when nothing is scheduled, as {@code IoHandlerContext} defines
     * it, and that runs {@link #afterEachRound} hooks.
     */
    static final class DnsEventLoop extends SingleThreadIoEventLoop {
        /** Run after each round; touched on the loop only. */
        private final List<Runnable> afterEachRound = new ArrayList<>();

        DnsEventLoop(IoEventLoopGroup parent, Executor executor, IoHandlerFactory io) {
            super(parent, executor, io);
        }

        @Override
        protected long deadlineNanos() {
            return nextScheduledTaskDeadlineNanos();
        }

        /** Has {@code hook} run at the end of every round of this loop, until removed; called on the loop. */
        void afterEachRound(Runnable hook) {
            assert inEventLoop();
            afterEachRound.add(hook);
        }

        /** Stops running {@code hook}; called on the loop. */
        void removeAfterEachRound(Runnable hook) {
            assert inEventLoop();
            afterEachRound.remove(hook);
        }

        @Override
        protected void afterRunningAllTasks() {
            super.afterRunningAllTasks();
            for (int i = 0; i < afterEachRound.size(); i++) {
                afterEachRound.get(i).run();
            }
        }
    }
}
