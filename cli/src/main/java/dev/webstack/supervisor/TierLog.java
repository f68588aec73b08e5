package dev.webstack.supervisor;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A component's log file ({@code var/log/NAME.log}): what its process writes to its standard output
 * and error, which the supervisor reads from a pipe and appends to the file, so that
 * {@code ./webstack reopen} can have the file opened again after logrotate moved it away, as nginx
 * reopens its error log on USR1 (a process writing to the file itself would keep writing to the
 * moved one). One per component, kept across its restarts; the supervisor's own lines
 * ({@code ---- starting}) go in between, whole.
 */
final class TierLog {
    private static final int CHUNK = 8192;

    private final Path file;
    // Guarded by this: the writes of the copying thread and of the supervisor, and reopen.
    private OutputStream out;
    private Thread copier;

    TierLog(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** Appends a line of the supervisor's own. */
    synchronized void line(String text) throws IOException {
        byte[] b = (text + "\n").getBytes(StandardCharsets.UTF_8);
        write(b, 0, b.length);
    }

    /**
     * Copies what {@code process} writes (its output, with its errors redirected into it) to the file
     * until the pipe closes, on a thread of its own; the copy a restart replaces finishes by itself.
     */
    synchronized void follow(Process process) {
        InputStream from = process.getInputStream();
        // A platform thread: it spends its life blocked in a read of the pipe, which would pin a
        // virtual thread's carrier anyway.
        copier = Thread.ofPlatform().daemon().name("log-" + file.getFileName()).start(() -> copy(from));
    }

    private void copy(InputStream from) {
        byte[] buf = new byte[CHUNK];
        try (from) {
            for (int n; (n = from.read(buf)) >= 0; ) {
                synchronized (this) {
                    try {
                        write(buf, 0, n);
                    } catch (IOException e) {
                        // The file cannot be written (a full disk, a removed folder): these bytes are
                        // lost, and the next ones try a new file. The pipe is read on, so that the
                        // process never blocks on its output.
                        closeQuietly();
                    }
                }
            }
        } catch (IOException e) {
            // The pipe broke: the process is gone.
        }
    }

    private void closeQuietly() {
        try {
            if (out != null) {
                out.close();
            }
        } catch (IOException ignored) {
            // Nothing more can be done with it.
        }
        out = null;
    }

    /** Waits, at most {@code timeout}, until what the last process wrote is in the file (its pipe closed). */
    void awaitCopied(Duration timeout) {
        Thread t;
        synchronized (this) {
            t = copier;
        }
        if (t != null) {
            try {
                t.join(timeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Opens the file again by its name: after a rotation, the next bytes go to a new file there. */
    synchronized void reopen() throws IOException {
        closeQuietly();
        open();
    }

    private void write(byte[] b, int off, int len) throws IOException {
        if (out == null) {
            open();
        }
        out.write(b, off, len);
    }

    private void open() throws IOException {
        out = new FileOutputStream(file.toFile(), true);
    }
}
