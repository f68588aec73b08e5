package dev.webstack.common.process;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few C library calls the JDK and Netty do not offer, through JNA (no native code of ours).
 * Constants are Linux's (x86-64 and arm64 alike). Loading fails on a platform without JNA's native
 * part; callers treat that as "not available" ({@link #available}).
 */
public final class LibC {
    public static final int SIGHUP = 1;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    /** {@code fcntl} command: a duplicate of the descriptor, closed on exec. */
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_WRONLY = 0x1;
    public static final int O_CREAT = 0x40;
    public static final int O_APPEND = 0x400;
    public static final int O_CLOEXEC = 0x80000;
    /** {@code recvmmsg}/{@code sendmmsg} flag: do not block, whatever the descriptor's mode. */
    public static final int MSG_DONTWAIT = 0x40;

    private static final boolean AVAILABLE = load();

    private LibC() {}

    private static boolean load() {
        if (!Platform.isLinux()) {
            return false;
        }
        try {
            Native.register(Platform.C_LIBRARY_NAME);
            return true;
        } catch (Throwable e) {
            return false;
        }
    }

    /** Whether the calls below can be made in this process. */
    public static boolean available() {
        return AVAILABLE;
    }

    /** {@code fcntl(fd, cmd, arg)} with an int argument; -1 on error. */
    public static native int fcntl(int fd, int cmd, int arg);

    /** {@code open(path, flags, mode)}: a new descriptor, or -1 on error. */
    public static native int open(String path, int flags, int mode);

    /** {@code dup2(from, to)}: {@code to} now names what {@code from} names; -1 on error. */
    public static native int dup2(int from, int to);

    /** {@code close(fd)}; -1 on error. */
    public static native int close(int fd);

    /** {@code sched_setaffinity(pid, size, mask)}: pid 0 is the calling thread; -1 on error. */
    public static native int sched_setaffinity(int pid, int size, long[] mask);

    /** {@code sched_getaffinity(pid, size, mask)}: the mask's size in bytes, or -1 on error. */
    public static native int sched_getaffinity(int pid, int size, long[] mask);

    /**
     * {@code recvmmsg(fd, msgvec, vlen, flags, NULL)}: reads up to {@code vlen} datagrams into the
     * {@code struct mmsghdr} array at native address {@code msgvec}; the number read, or -1 on error
     * ({@code EAGAIN} with {@link #MSG_DONTWAIT} when none is waiting). Linux 2.6.33.
     */
    public static native int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout);

    /**
     * {@code sendmmsg(fd, msgvec, vlen, flags)}: sends the datagrams of the {@code struct mmsghdr}
     * array at native address {@code msgvec}; the number sent (the first that failed is the next),
     * or -1 when the first failed. Linux 3.0.
     */
    public static native int sendmmsg(int fd, long msgvec, int vlen, int flags);

    /** {@code signal(sig, handler)}; a null handler is {@code SIG_DFL}. Returns the previous handler. */
    public static native Pointer signal(int sig, Pointer handler);
}
