package dev.webstack.dns;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.unix.RawUnixChannelOption;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Chooses which socket of a {@code SO_REUSEPORT} group receives each datagram, one by one,
 * instead of by the kernel's default hash of each flow (source and destination address and port).
 *
 * <p>Why: each UDP socket of the group is read by one event loop. With the hash, all datagrams of
 * one client socket go to one event loop; a few busy clients (a resolver farm, or dnsperf's two
 * client sockets in {@code bench/dns/run.sh}) then land on the same loop in many cases while
 * another loop idles, which halves the throughput and queues the queries behind each other. DNS
 * queries over UDP are independent of each other, so choosing for each one loses nothing.
 * NSD, with one socket shared by its server processes, has no such imbalance.
 *
 * <p>Two choices:
 * <ul>
 *   <li>{@link #attach}: a socket at random;
 *   <li>{@link #attachAcross}: when each socket's event loop runs on a CPU of its own
 *       ({@link CpuAffinity}), the socket whose loop runs on the CPU after the one that delivers
 *       the datagram. That CPU is busy delivering it (on loopback it is the sender's own CPU, in
 *       its {@code sendto}); a loop woken there waits for it, while the next CPU can answer at
 *       once. A datagram delivered on a CPU no loop runs on goes to a socket at random.
 * </ul>
 *
 * <p>How: a classic BPF program attached with {@code SO_ATTACH_REUSEPORT_CBPF} (Linux 4.5) returns
 * the index of the socket to receive each datagram. Netty has no option for it, so the program
 * goes through its {@link RawUnixChannelOption}; the {@code sock_fprog} structure points to the
 * instructions by address. Where that fails (another kernel or architecture) the group keeps the
 * hash, which is still correct, and a warning says so.
 */
final class DatagramSpread {
    private static final int SOL_SOCKET = 1;
    private static final int SO_ATTACH_REUSEPORT_CBPF = 51;
    /** {@code struct sock_fprog} on a 64-bit system: a 16-bit length, padding, a pointer. */
    private static final int SOCK_FPROG_SIZE = 16;
    /** {@code struct sock_filter}: 16-bit code, two 8-bit jump offsets, 32-bit constant. */
    private static final int SOCK_FILTER_SIZE = 8;
    private static final RawUnixChannelOption ATTACH =
            new RawUnixChannelOption("SO_ATTACH_REUSEPORT_CBPF", SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, SOCK_FPROG_SIZE);

    // Classic BPF (linux/filter.h).
    private static final short LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
    private static final short ALU_MOD_K = 0x94; // BPF_ALU | BPF_MOD | BPF_K
    private static final short RET_A = 0x16; // BPF_RET | BPF_A
    private static final short RET_K = 0x06; // BPF_RET | BPF_K
    private static final short JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    /** SKF_AD_OFF + SKF_AD_RANDOM: loading from this offset gives a random 32-bit number. */
    private static final int AD_RANDOM = -0x1000 + 56;
    /** SKF_AD_OFF + SKF_AD_CPU: the CPU the program runs on, the one delivering the datagram. */
    private static final int AD_CPU = -0x1000 + 36;
    /** The most sockets {@link #attachAcross} steers by CPU (two instructions each; the kernel takes 4096). */
    static final int MAX_STEERED = 1024;

    private DatagramSpread() {}

    /**
     * Attaches the program that sends each datagram to a socket at random to the group of
     * {@code member} (one attachment serves every socket of the group), which must hold
     * {@code sockets} sockets.
     *
     * @return whether the datagrams are now spread one by one
     * @throws IllegalArgumentException {@code sockets} is below 2
     */
    static boolean attach(Channel member, int sockets) {
        if (sockets < 2) {
            throw new IllegalArgumentException("sockets: " + sockets + " (expected: >= 2)");
        }
        ByteBuffer program = ByteBuffer.allocateDirect(3 * SOCK_FILTER_SIZE).order(ByteOrder.nativeOrder());
        random(program, sockets);
        return attach(member, program);
    }

    /**
     * Attaches the program that sends each datagram delivered on {@code cpus[i]} to socket
     * {@code (i + 1) % cpus.length}, and any other to a socket at random, to the group of
     * {@code member}, whose socket {@code i} is read on {@code cpus[i]}.
     *
     * @return whether the datagrams are now steered so
     * @throws IllegalArgumentException fewer than 2 CPUs, or more than {@value #MAX_STEERED}
     */
    static boolean attachAcross(Channel member, int[] cpus) {
        int sockets = cpus.length;
        if (sockets < 2 || sockets > MAX_STEERED) {
            throw new IllegalArgumentException("cpus: " + sockets + " (expected: 2-" + MAX_STEERED + ")");
        }
        ByteBuffer program = ByteBuffer.allocateDirect((1 + 2 * sockets + 3) * SOCK_FILTER_SIZE).order(ByteOrder.nativeOrder());
        instruction(program, LD_W_ABS, AD_CPU, 0, 0);
        for (int i = 0; i < sockets; i++) {
            // The CPU is cpus[i]: on to the next instruction, the answer; else skip it.
            instruction(program, JEQ_K, cpus[i], 0, 1);
            instruction(program, RET_K, (i + 1) % sockets, 0, 0);
        }
        random(program, sockets);
        return attach(member, program);
    }

    private static void random(ByteBuffer program, int sockets) {
        instruction(program, LD_W_ABS, AD_RANDOM, 0, 0);
        instruction(program, ALU_MOD_K, sockets, 0, 0);
        instruction(program, RET_A, 0, 0, 0);
    }

    private static boolean attach(Channel member, ByteBuffer program) {
        ByteBuffer fprog = ByteBuffer.allocateDirect(SOCK_FPROG_SIZE).order(ByteOrder.nativeOrder());
        try {
            fprog.putShort(0, (short) (program.position() / SOCK_FILTER_SIZE));
            fprog.putLong(8, PlatformDependent.directBufferAddress(program));
            // The kernel copies the program during the call: the buffers need not outlive it.
            return member.config().setOption(ATTACH, fprog);
        } catch (ChannelException | UnsupportedOperationException e) {
            return false;
        } finally {
            // Keep the program reachable until setsockopt has returned.
            java.lang.ref.Reference.reachabilityFence(program);
        }
    }

    private static void instruction(ByteBuffer program, short code, int k, int jumpIfTrue, int jumpIfFalse) {
        program.putShort(code).put((byte) jumpIfTrue).put((byte) jumpIfFalse).putInt(k);
    }
}
