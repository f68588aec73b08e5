package dev.webstack.dns;

import dev.webstack.common.process.LibC;
import java.util.Arrays;

/**
 * Which CPUs a thread may run on ({@code sched_getaffinity(2)}, {@code sched_setaffinity(2)},
 * through JNA), for {@code dns.cpu-affinity}: each event loop of the DNS tier on a CPU of its own,
 * as NSD's {@code cpu-affinity} binds its server processes. Linux only; where JNA or the calls are
 * missing every method says so rather than throw.
 */
final class CpuAffinity {
    /** CPUs a mask can name: {@code CPU_SETSIZE} of glibc. */
    private static final int MAX_CPUS = 1024;

    private CpuAffinity() {}

    /** The CPUs the calling thread may run on, in ascending order; empty when that is not known. */
    static int[] current() {
        if (!LibC.available()) {
            return new int[0];
        }
        long[] mask = new long[MAX_CPUS / Long.SIZE];
        try {
            if (LibC.sched_getaffinity(0, mask.length * Long.BYTES, mask) < 0) {
                return new int[0];
            }
        } catch (LinkageError e) {
            return new int[0]; // a C library without the call
        }
        return java.util.stream.IntStream.range(0, MAX_CPUS)
                .filter(cpu -> (mask[cpu / Long.SIZE] & (1L << (cpu % Long.SIZE))) != 0)
                .toArray();
    }

    /**
     * Lets the calling thread run on {@code cpus} only.
     *
     * @return whether it is so now
     */
    static boolean set(int... cpus) {
        if (!LibC.available() || cpus.length == 0) {
            return false;
        }
        long[] mask = new long[MAX_CPUS / Long.SIZE];
        for (int cpu : cpus) {
            if (cpu < 0 || cpu >= MAX_CPUS) {
                return false;
            }
            mask[cpu / Long.SIZE] |= 1L << (cpu % Long.SIZE);
        }
        try {
            return LibC.sched_setaffinity(0, mask.length * Long.BYTES, mask) == 0;
        } catch (LinkageError e) {
            return false; // a C library without the call
        }
    }

    static String describe(int[] cpus) {
        return Arrays.toString(cpus).replace(" ", "");
    }
}
