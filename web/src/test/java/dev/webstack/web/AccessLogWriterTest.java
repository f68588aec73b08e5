package dev.webstack.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogWriterTest {
    @TempDir
    Path dir;

    @Test
    void quotedFieldsEscapeQuotesBackslashesControlAndHighBytesLikeNginx() {
        LogLine line = new LogLine().quoted("a\"b\\c\u0001d\u007fe\u00e9f\u20ac\r\n");
        assertThat(line.toString()).isEqualTo("a\\x22b\\x5Cc\\x01d\\x7Fe\\xE9f\\xE2\\x82\\xAC\\x0D\\x0A");
        assertThat(new LogLine().quoted(null).toString()).isEqualTo("-");
        assertThat(new LogLine().quoted("x".repeat(2000)).length()).isEqualTo(2000);
    }

    @Test
    void numbersAndSecondsAreWrittenAsDecimals() {
        assertThat(new LogLine().number(0).raw(' ').number(-42).raw(' ').number(Long.MAX_VALUE).raw(' ')
                .number(Long.MIN_VALUE).toString())
                .isEqualTo("0 -42 " + Long.MAX_VALUE + " " + Long.MIN_VALUE);
        for (long n : new long[] {7, 9, 10, 99, 100, 999_999_999_999_999_999L, 1_000_000_000_000_000_000L}) {
            assertThat(new LogLine().raw('=').number(n).toString()).as("a number of each width").isEqualTo("=" + n);
        }
        assertThat(new LogLine().seconds(0).raw(' ').seconds(4_499).raw(' ').seconds(4_500).raw(' ')
                .seconds(1_234_567).raw(' ').seconds(61_000_000).toString())
                .isEqualTo("0.000 0.004 0.005 1.235 61.000");
    }

    @Test
    void linesFromSeveralThreadsArriveWholeAndInEachThreadsOrder() throws Exception {
        Path file = dir.resolve("log/access.log");
        AccessLogWriter writer = AccessLogWriter.open(file);
        int perThread = 40_000;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            String name = "t" + t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    writer.append(writer.line().ascii(name).raw(' ').number(i).raw(' ').quoted("GET /x HTTP/1.1"));
                    if (i % 5_000 == 0) {
                        Thread.yield(); // let the writer's sweep meet lines half way through a buffer
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        writer.close();
        List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        assertThat(lines).hasSize(3 * perThread);
        int[] next = new int[3];
        for (String l : lines) {
            String[] f = l.split(" ", 3);
            assertThat(f[2]).isEqualTo("GET /x HTTP/1.1");
            int t = f[0].charAt(1) - '0';
            assertThat(Integer.parseInt(f[1])).isEqualTo(next[t]++);
        }
    }

    @Test
    void aLineReachesTheFileWithinTheFlushIntervalWithoutMoreTraffic() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLogWriter writer = AccessLogWriter.open(file);
        try {
            writer.append(writer.line().ascii("lonely line"));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3 * AccessLogWriter.FLUSH_INTERVAL_MS);
            while (Files.size(file) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(Files.readString(file)).isEqualTo("lonely line\n");
        } finally {
            writer.close();
        }
    }

    @Test
    void aLineLongerThanABufferIsWrittenWholeBetweenItsNeighbours() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLogWriter writer = AccessLogWriter.open(file);
        String big = "u".repeat(AccessLogWriter.BUFFER_SIZE + 1_000);
        writer.append(writer.line().ascii("before"));
        writer.append(writer.line().quoted(big));
        writer.append(writer.line().ascii("after"));
        writer.close();
        assertThat(Files.readAllLines(file)).containsExactly("before", big, "after");
    }

    @Test
    void writersOneAfterAnotherReuseTheSameBuffersAndAreNotKept() throws Exception {
        Path file = dir.resolve("access.log");
        ExecutorService loops = Executors.newFixedThreadPool(2); // two event loops, logging through every writer
        try {
            int before = AccessLogWriter.allocated();
            for (int reload = 0; reload < 40; reload++) {
                AccessLogWriter writer = AccessLogWriter.open(file);
                int n = reload;
                List<Future<?>> lines = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int thread = t;
                    lines.add(loops.submit(() -> {
                        // More than one buffer's worth: full buffers go to the writer thread and come back.
                        for (int i = 0; i < 6_000; i++) {
                            writer.append(writer.line().ascii("writer " + n + " thread " + thread + " line " + i + " ".repeat(40)));
                        }
                    }));
                }
                for (Future<?> f : lines) {
                    f.get(10, TimeUnit.SECONDS);
                }
                writer.close();
            }
            assertThat(Files.readAllLines(file)).hasSize(40 * 2 * 6_000);
            assertThat(AccessLogWriter.allocated() - before).as("buffers made for 40 writers in turn")
                    .isLessThanOrEqualTo(AccessLogWriter.POOLED);
            // A writer replaced is not kept by the threads that logged to it.
            ExecutorService loop = Executors.newSingleThreadExecutor();
            try {
                WeakReference<AccessLogWriter> first = new WeakReference<>(AccessLogWriter.open(file));
                loop.submit(() -> first.get().append(first.get().line().ascii("first"))).get(10, TimeUnit.SECONDS);
                first.get().close();
                AccessLogWriter second = AccessLogWriter.open(file);
                loop.submit(() -> second.append(second.line().ascii("second"))).get(10, TimeUnit.SECONDS);
                second.close();
                for (int i = 0; i < 50 && first.get() != null; i++) {
                    System.gc();
                    Thread.sleep(20);
                }
                assertThat(first.get()).as("a replaced writer, once its thread logged to the next one").isNull();
            } finally {
                loop.shutdownNow();
            }
        } finally {
            loops.shutdownNow();
        }
    }

    @Test
    void linesAppendedAfterCloseAreDroppedAndTheFileStaysAsItWas() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLogWriter writer = AccessLogWriter.open(file);
        writer.append(writer.line().ascii("kept"));
        writer.close();
        writer.append(writer.line().ascii("late"));
        assertThat(Files.readAllLines(file)).containsExactly("kept");
    }
}
