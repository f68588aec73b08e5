package dev.webstack.web;

import dev.webstack.common.config.AccessLogFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends access log lines to a file in large writes from one writer thread, so that the event
 * loops never wait for the disk, like nginx's {@code access_log ... buffer=256k flush=1s}.
 *
 * <ul>
 *   <li>Each thread that logs (an event loop) formats its lines as bytes into a {@link LogLine} and
 *       copies them into a buffer of its own of {@value #BUFFER_SIZE} bytes; a full buffer goes to
 *       the writer thread, which writes it with one {@code write} and gives it back to a pool the
 *       process's writers share, a reload's new writer included (direct buffers: the kernel copies
 *       from them, with no copy into a temporary direct buffer first).
 *       Threads never share a buffer, so the lock each buffer has is only ever contended by the
 *       writer thread's sweep.</li>
 *   <li>Flush: every {@value #FLUSH_INTERVAL_MS} ms the writer thread takes what each buffer holds,
 *       so a line reaches the file within about a second; {@link #close()} writes every line
 *       appended before it.</li>
 *   <li>Queue: at most {@value #QUEUE_CAPACITY} full buffers wait; beyond that their lines are
 *       dropped and counted (a full or slow disk must not stop the web tier), the count is logged on
 *       close.</li>
 * </ul>
 */
final class AccessLogWriter implements AutoCloseable {
    // 256 KB: each full buffer wakes the writer thread, and on a busy machine a wake-up costs more
    // than the write (the small file at 100k requests/s: the writer thread's CPU per line was
    // 0.08-0.12 us with 64 KB buffers, 0.03-0.04 us with 1 MB ones; a 64 KB write alone is 15 us).
    static final int BUFFER_SIZE = 256 * 1024;
    static final int QUEUE_CAPACITY = 16; // 4 MB waiting at most
    // Free buffers kept for the process: a full queue's, and one for each of a few event loops.
    static final int POOLED = QUEUE_CAPACITY + 8;
    static final long FLUSH_INTERVAL_MS = 1_000;
    private static final Logger log = LoggerFactory.getLogger(AccessLogWriter.class);

    /** Bytes handed to the writer thread (from position to limit), and how many lines they hold. */
    private record Chunk(ByteBuffer bytes, int lines) {}

    // Wakes the writer on close; compared by identity.
    private static final Chunk WAKE_UP = new Chunk(ByteBuffer.allocate(0), 0);

    /** One thread's lines not yet handed over; guarded by its own monitor. */
    private final class ThreadBuffer {
        final Thread thread;
        final LogLine line = new LogLine();
        ByteBuffer bytes; // taken from the pool at the first line after a hand-off
        int lines;

        ThreadBuffer(Thread thread) {
            this.thread = thread;
        }

        AccessLogWriter writer() {
            return AccessLogWriter.this;
        }

        synchronized void append(LogLine l) {
            if (closing) {
                dropped.incrementAndGet();
                return;
            }
            int need = l.length() + 1;
            if (bytes != null && need > bytes.remaining()) {
                handOff();
            }
            if (need > BUFFER_SIZE) { // a line longer than a buffer goes on its own
                ByteBuffer own = ByteBuffer.allocate(need);
                l.copyTo(own);
                queue(new Chunk(own.put((byte) '\n').flip(), 1));
                return;
            }
            if (bytes == null) {
                bytes = buffer();
            }
            l.copyTo(bytes);
            bytes.put((byte) '\n');
            lines++;
        }

        /** Queues the lines held, if any; from then on the thread holds no buffer until its next line. */
        synchronized void handOff() {
            if (bytes == null) {
                return;
            }
            if (bytes.position() > 0) {
                queue(new Chunk(bytes.flip(), lines));
            } else {
                recycle(bytes);
            }
            bytes = null;
            lines = 0;
        }
    }

    private final Path file;
    private final FileChannel out;
    private final LogFormat format;
    private final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    // Written buffers, to be filled again: direct, so that a write copies nothing in Java first (a
    // heap buffer goes through a temporary direct one), and kept, since a direct buffer is dear to
    // make. Shared by every writer of the process: the writer a reload makes takes the buffers the
    // one before it gave back.
    private static final BlockingQueue<ByteBuffer> FREE = new ArrayBlockingQueue<>(POOLED);
    private static final AtomicInteger ALLOCATED = new AtomicInteger();
    private final List<ThreadBuffer> buffers = new CopyOnWriteArrayList<>();
    // Each thread's buffer of the writer it logged to last. One thread-local for all writers: one
    // per writer kept every writer a reload replaced reachable from each event loop's map (the
    // map's entry holds its value strongly, and the value held the writer and so the key).
    private static final ThreadLocal<ThreadBuffer> LAST = new ThreadLocal<>();
    private final AtomicLong dropped = new AtomicLong();
    private final Thread thread;
    private volatile boolean closing;

    private AccessLogWriter(Path file, FileChannel out, LogFormat format) {
        this.file = file;
        this.out = out;
        this.format = format;
        this.thread = new Thread(this::run, "web-access-log");
        this.thread.setDaemon(true);
    }

    /** The writer for {@code web.access-log}: a file, or none ({@code off}), in the default format. */
    static AccessLogWriter open(Optional<Path> file) {
        return open(file, AccessLogFormat.DEFAULT);
    }

    /** The writer for {@code web.access-log} (a file, or none) and {@code web.access-log-format}. */
    static AccessLogWriter open(Optional<Path> file, AccessLogFormat format) {
        return file.isPresent() ? open(file.get(), format) : new AccessLogWriter(null, null, new LogFormat(format));
    }

    static AccessLogWriter open(Path file) {
        return open(file, AccessLogFormat.DEFAULT);
    }

    static AccessLogWriter open(Path file, AccessLogFormat format) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            AccessLogWriter writer = new AccessLogWriter(file, out, new LogFormat(format));
            writer.thread.start();
            return writer;
        } catch (IOException e) {
            throw new UncheckedIOException("access log " + file + ": cannot open for appending: " + e.getMessage(), e);
        }
    }

    /** What the lines hold. */
    LogFormat format() {
        return format;
    }

    /** Whether lines are written at all; with {@code access-log: off} they are not even formatted. */
    boolean enabled() {
        return out != null;
    }

    /** The calling thread's line, emptied: fill it, then {@link #append(LogLine)} it. */
    LogLine line() {
        return local().line.clear();
    }

    /** Appends {@code line} (from {@link #line()} on this thread) and a line break; never blocks on I/O. */
    void append(LogLine line) {
        local().append(line);
    }

    /** The calling thread's buffer of this writer. */
    private ThreadBuffer local() {
        ThreadBuffer b = LAST.get();
        if (b == null || b.writer() != this) {
            b = bufferOf(Thread.currentThread());
            LAST.set(b);
        }
        return b;
    }

    /** The buffer {@code thread} appends to: the one it had if it logged here before (a thread logging to two writers in turn). */
    private ThreadBuffer bufferOf(Thread thread) {
        for (ThreadBuffer b : buffers) {
            if (b.thread == thread) {
                return b;
            }
        }
        ThreadBuffer b = new ThreadBuffer(thread);
        buffers.add(b);
        return b;
    }

    private void queue(Chunk chunk) {
        if (!queue.offer(chunk)) {
            dropped.addAndGet(chunk.lines());
            recycle(chunk.bytes());
        }
    }

    /** An empty buffer of {@value #BUFFER_SIZE} bytes: a written one, else a new one. */
    private static ByteBuffer buffer() {
        ByteBuffer b = FREE.poll();
        if (b == null) {
            ALLOCATED.incrementAndGet();
            b = ByteBuffer.allocateDirect(BUFFER_SIZE);
        }
        return b;
    }

    /** How many buffers the process has made so far. */
    static int allocated() {
        return ALLOCATED.get();
    }

    /** Keeps a written buffer for the next lines, if the pool has room ({@value #POOLED}); else the GC frees it. */
    private static void recycle(ByteBuffer b) {
        if (b.isDirect() && b.capacity() == BUFFER_SIZE) {
            FREE.offer(b.clear());
        }
    }

    private void run() {
        long lastSweep = System.nanoTime();
        while (true) {
            Chunk chunk = null;
            try {
                chunk = queue.poll(FLUSH_INTERVAL_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closing = true;
            }
            write(chunk);
            boolean stop = closing;
            if (stop || System.nanoTime() - lastSweep >= TimeUnit.MILLISECONDS.toNanos(FLUSH_INTERVAL_MS)) {
                // Under the buffers' locks: after this sweep with closing set, no line gets in.
                for (ThreadBuffer b : buffers) {
                    b.handOff();
                }
                lastSweep = System.nanoTime();
            }
            for (Chunk c; (c = queue.poll()) != null; ) {
                write(c);
            }
            if (stop) {
                break;
            }
        }
        try {
            out.close();
        } catch (IOException e) {
            log.warn("access log {}: cannot close: {}", file, e.getMessage());
        }
    }

    private void write(Chunk chunk) {
        if (chunk == null || chunk == WAKE_UP) {
            return;
        }
        try {
            ByteBuffer buf = chunk.bytes();
            while (buf.hasRemaining()) {
                out.write(buf);
            }
        } catch (IOException e) {
            dropped.addAndGet(chunk.lines());
            log.warn("access log {}: cannot write: {}", file, e.getMessage());
        }
        recycle(chunk.bytes());
    }

    /** Writes every line appended before, and closes the file; lines appended after are dropped. */
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
            log.warn("access log {}: {} lines dropped (queue full: {} buffers of {} bytes, or a write failed)",
                    file, dropped.get(), QUEUE_CAPACITY, BUFFER_SIZE);
        }
    }
}
