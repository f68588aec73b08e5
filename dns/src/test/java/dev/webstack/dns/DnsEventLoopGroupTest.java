package dev.webstack.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The DNS event loops sleep without a timeout while nothing is scheduled, and still run what is. */
class DnsEventLoopGroupTest {
    private final DnsEventLoopGroup group = new DnsEventLoopGroup(1, new DefaultThreadFactory("dns-test"),
            Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    private final DnsEventLoopGroup.DnsEventLoop loop = (DnsEventLoopGroup.DnsEventLoop) group.next();

    @AfterEach
    void shutDown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Test
    void theDeadlineIsMinusOneWhileNothingIsScheduledAndTheTasksWhileOneIs() throws Exception {
        assertThat(loop.submit(loop::deadlineNanos).get(5, TimeUnit.SECONDS)).isEqualTo(-1L);

        ScheduledFuture<?> later = loop.schedule(() -> { }, 1, TimeUnit.HOURS);
        ScheduledFuture<?> sooner = loop.schedule(() -> { }, 1, TimeUnit.MINUTES);
        long minute = loop.submit(loop::deadlineNanos).get(5, TimeUnit.SECONDS);
        sooner.cancel(false);
        long hour = loop.submit(loop::deadlineNanos).get(5, TimeUnit.SECONDS);
        assertThat(minute).isNotEqualTo(-1L);
        assertThat(hour - minute).as("the hour's task is due 59 minutes after the minute's")
                .isBetween(TimeUnit.MINUTES.toNanos(58), TimeUnit.MINUTES.toNanos(60));

        later.cancel(false);
        assertThat(loop.submit(loop::deadlineNanos).get(5, TimeUnit.SECONDS)).as("after the cancel").isEqualTo(-1L);
    }

    @Test
    void aSleepingLoopRunsAScheduledTaskWhenItIsDue() throws Exception {
        loop.submit(() -> { }).get(5, TimeUnit.SECONDS); // the loop has started and sleeps
        long start = System.nanoTime();
        ScheduledFuture<Long> task = loop.schedule(System::nanoTime, 200, TimeUnit.MILLISECONDS);
        long ranAt = task.get(5, TimeUnit.SECONDS);
        assertThat(ranAt - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    }

    @Test
    void anIdleLoopDoesNotWakeUp() throws Exception {
        assumeTrue(Epoll.isAvailable(), "counts the wake-ups of an epoll loop thread in /proc (Linux)");
        // The loop thread's id, as /proc/thread-self shows it to the thread itself.
        String tid = loop.submit(() -> field(Path.of("/proc/thread-self/status"), "Pid")).get(5, TimeUnit.SECONDS);
        Path status = Path.of("/proc/self/task", tid, "status");
        Thread.sleep(200); // back in epoll_wait
        String before = field(status, "voluntary_ctxt_switches");
        // Netty's own loop wakes once a second here (a one-second epoll timeout at each sleep).
        Thread.sleep(2_500);
        assertThat(field(status, "voluntary_ctxt_switches")).as("the loop's sleeps in 2.5 s of nothing to do")
                .isEqualTo(before);
        assertThat(loop.submit(() -> "awake").get(5, TimeUnit.SECONDS)).as("a task still wakes it").isEqualTo("awake");
    }

    private static String field(Path status, String name) {
        try {
            return Files.readAllLines(status).stream()
                    .filter(line -> line.startsWith(name + ":"))
                    .map(line -> line.substring(name.length() + 1).trim())
                    .findFirst().orElseThrow(() -> new AssertionError(name + " not in " + status));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
