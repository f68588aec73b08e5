package dev.webstack.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends access log lines to a file from one writer thread, so that the event loops never wait
 * for the disk.
 *
 * <ul>
 *   <li>Queue: at most {@value #QUEUE_CAPACITY} lines wait; beyond that lines are dropped and
 *       counted (a full disk must not stop the web tier), the count is logged on close.</li>
 *   <li>Flush: when the queue runs empty and at least every {@value #FLUSH_INTERVAL_MS} ms, and on
 *       {@link #close()}, which writes every line queued before it.</li>
 * </ul>
 */
final class AccessLogWriter implements AutoCloseable {
    static final int QUEUE_CAPACITY = 65_536;
    static final long FLUSH_INTERVAL_MS = 1_000;
    /** Pause after writing a batch, so that lines under load are written in batches. */
    static final long BATCH_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final Logger log = LoggerFactory.getLogger(AccessLogWriter.class);

    private final Path file;
    private final Writer out;
    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final AtomicLong dropped = new AtomicLong();
    private final Thread thread;
    private volatile boolean closing;

    // Wakes the writer on close; compared by identity. No Thread.interrupt(): interrupting a thread
    // in FileChannel I/O closes the channel.
    private static final String WAKE_UP = new String("");

    private AccessLogWriter(Path file, Writer out) {
        this.file = file;
        this.out = out;
        this.thread = new Thread(this::run, "web-access-log");
        this.thread.setDaemon(true);
    }

    /** The writer for {@code web.access-log}: a file, or none ({@code off}). */
    static AccessLogWriter open(Optional<Path> file) {
        return file.isPresent() ? open(file.get()) : new AccessLogWriter(null, null);
    }

    /** Whether lines are written at all; with {@code access-log: off} they are not even formatted. */
    boolean enabled() {
        return out != null;
    }

    static AccessLogWriter open(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            AccessLogWriter writer = new AccessLogWriter(file, out);
            writer.thread.start();
            return writer;
        } catch (IOException e) {
            throw new UncheckedIOException("access log " + file + ": cannot open for appending: " + e.getMessage(), e);
        }
    }

    /** Queues one line (without its line break); never blocks. */
    void append(String line) {
        if (closing || !queue.offer(line)) {
            dropped.incrementAndGet();
        }
    }

    private void run() {
        List<String> batch = new ArrayList<>();
        long lastFlush = System.nanoTime();
        boolean dirty = false;
        while (true) {
            String line = null;
            try {
                line = queue.poll(FLUSH_INTERVAL_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closing = true;
            }
            batch.clear();
            if (line != null) {
                batch.add(line);
            }
            queue.drainTo(batch);
            try {
                for (String l : batch) {
                    if (l == WAKE_UP) {
                        continue;
                    }
                    out.write(l);
                    out.write('\n');
                    dirty = true;
                }
                boolean due = System.nanoTime() - lastFlush >= TimeUnit.MILLISECONDS.toNanos(FLUSH_INTERVAL_MS);
                if (dirty && (queue.isEmpty() || due)) {
                    out.flush();
                    dirty = false;
                    lastFlush = System.nanoTime();
                }
            } catch (IOException e) {
                log.warn("access log {}: cannot write: {}", file, e.getMessage());
            }
            if (closing && queue.isEmpty()) {
                break;
            }
            // Under load, let lines gather for a moment: one wake-up and one write per batch
            // instead of per request.
            if (!closing && !batch.isEmpty()) {
                LockSupport.parkNanos(BATCH_PAUSE_NANOS);
            }
        }
        try {
            out.close();
        } catch (IOException e) {
            log.warn("access log {}: cannot close: {}", file, e.getMessage());
        }
    }

    /** Writes what is queued, flushes and closes the file. */
    @Override
    public void close() {
        if (!enabled()) {
            return;
        }
        closing = true;
        queue.offer(WAKE_UP);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dropped.get() > 0) {
            log.warn("access log {}: {} lines dropped (queue full: {} lines)", file, dropped.get(), QUEUE_CAPACITY);
        }
    }
}
