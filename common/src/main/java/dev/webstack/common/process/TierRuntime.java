package dev.webstack.common.process;

import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one tier in the foreground of its own process until it is told to stop.
 *
 * <p>SIGTERM and SIGINT stop it gracefully through a shutdown hook that calls the tier's
 * {@link AutoCloseable#close()} (which lets in-flight work finish). When the supervisor started the
 * process ({@code supervisorPid} present), the tier also stops by itself if the supervisor dies, so
 * that a {@code kill -9} of the supervisor never leaves orphaned servers holding the ports; and it
 * ignores SIGINT, so that Ctrl-C in the supervisor's terminal stops the tiers in the supervisor's
 * order (web before app before db), not all at once.
 */
public final class TierRuntime {
    private static final Logger log = LoggerFactory.getLogger(TierRuntime.class);

    private TierRuntime() {}

    private static volatile boolean reloadable;
    private static volatile boolean sighupReachesReload;

    /**
     * Blocks until the process is asked to stop, then closes {@code tier}. A tier that registered no
     * {@link #onSighup} handler ignores SIGHUP (with a log line) instead of dying of it, the JVM's default.
     */
    public static void runUntilStopped(String name, AutoCloseable tier, Optional<Long> supervisorPid) {
        if (!reloadable) {
            handleSighup(name, () -> {
                throw new UnsupportedOperationException("this tier has nothing to reload; SIGHUP ignored");
            }, false);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            log.info("{}: stopping", name);
            try {
                tier.close();
            } catch (Exception e) {
                log.warn("{}: error while stopping: {}", name, e.toString());
            }
            log.info("{}: stopped", name);
            stopped.countDown();
        }, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        supervisorPid.ifPresent(pid -> {
            ignoreSigint();
            ProcessHandle.of(pid).ifPresentOrElse(
                    parent -> parent.onExit().thenRun(() -> {
                        log.warn("{}: supervisor (pid {}) is gone, stopping", name, pid);
                        System.exit(0);
                    }),
                    () -> {
                        log.warn("{}: supervisor (pid {}) is not running, stopping", name, pid);
                        System.exit(0);
                    });
        });
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs {@code reload} on each SIGHUP, as nginx and NSD do: the tier re-reads its config and
     * applies it without stopping. A reload that fails is logged and the running config stays.
     * A process started with SIGHUP ignored (nohup; the JVM would leave it ignored) takes the signal
     * back, as nginx does. When no SIGHUP can reach the reload all the same (no JNA, no such
     * signal) it logs why, and {@link #sighupReachesReload} says so.
     */
    public static void onSighup(String name, Runnable reload) {
        reloadable = true;
        sighupReachesReload = handleSighup(name, reload, true);
    }

    /**
     * Runs {@code reopen} on each SIGUSR1, as nginx does ({@code nginx -s reopen}): the tier opens
     * its log files again, for log rotation. A reopen that fails is logged and the files in use stay.
     */
    @SuppressWarnings("restriction")
    public static void onSigusr1(String name, Runnable reopen) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("USR1"), signal -> {
                log.info("{}: SIGUSR1, reopening the logs", name);
                try {
                    reopen.run();
                    log.info("{}: reopened the logs", name);
                } catch (RuntimeException e) {
                    log.error("{}: reopen failed, the files in use stay: {}", name, e.getMessage());
                }
            });
        } catch (Throwable t) {
            log.warn("{}: cannot handle SIGUSR1, reopening the logs by signal is unavailable: {}", name, t.toString());
        }
    }

    /** Whether a SIGHUP reaches the reload given to {@link #onSighup}. */
    public static boolean sighupReachesReload() {
        return sighupReachesReload;
    }

    @SuppressWarnings("restriction")
    private static boolean handleSighup(String name, Runnable reload, boolean reloads) {
        sun.misc.SignalHandler handler = signal -> {
            log.info("{}: SIGHUP, reloading", name);
            try {
                reload.run();
                log.info("{}: reloaded", name);
            } catch (RuntimeException e) {
                log.error("{}: reload rejected, the running config stays: {}", name, e.getMessage());
            }
        };
        try {
            sun.misc.Signal hup = new sun.misc.Signal("HUP");
            sun.misc.SignalHandler before = sun.misc.Signal.handle(hup, handler);
            if (before == sun.misc.SignalHandler.SIG_IGN && reloads && LibC.available()) {
                // Started with SIGHUP ignored (nohup), which the JVM leaves ignored. A tier's SIGHUP
                // means "reload", as nginx's does, which takes it back the same way.
                LibC.signal(LibC.SIGHUP, null);
                before = sun.misc.Signal.handle(hup, handler);
            }
            if (before == sun.misc.SignalHandler.SIG_IGN) {
                if (reloads) {
                    log.warn("{}: SIGHUP is ignored in this process (started under nohup?) and could not be"
                            + " taken back: reload by signal and './webstack reload' cannot reach it", name);
                }
                return false;
            }
            return true;
        } catch (Throwable t) {
            log.warn("{}: cannot handle SIGHUP, reload unavailable: {}", name, t.toString());
            return false;
        }
    }

    @SuppressWarnings("restriction")
    private static void ignoreSigint() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN);
        } catch (Throwable t) {
            log.debug("cannot ignore SIGINT: {}", t.toString());
        }
    }
}
