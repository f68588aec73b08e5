package dev.webstack.dns;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.unix.RawUnixChannelOption;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Spreads the datagrams of a {@code SO_REUSEPORT} group over its sockets at random, one by one,
 * instead of by the kernel's default hash of each flow (source and destination address and port).
 *
 * <p>Why: each UDP socket of the group is read by one event loop. With the hash, all datagrams of
 * one client socket go to one event loop; a few busy clients (a resolver farm, or dnsperf's two
 * client sockets in {@code bench/dns/run.sh}) then land on the same loop in many cases while
 * another loop idles, which halves the throughput and queues the queries behind each other. DNS
 * queries over UDP are independent of each other, so spreading them one by one loses nothing.
 * NSD, with one socket shared by its server processes, has no such imbalance.
 *
 * <p>How: a classic BPF program attached with {@code SO_ATTACH_REUSEPORT_CBPF} (Linux 4.5) returns
 * the index of the socket to receive each datagram: {@code random() % sockets}. Netty has no option
 * for it, so the program goes through its {@link RawUnixChannelOption}; the {@code sock_fprog}
 * structure points to the instructions by address. Where that fails (another kernel or
 * architecture) the group keeps the hash, which is still correct, and a warning says so.
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
    /** SKF_AD_OFF + SKF_AD_RANDOM: loading from this offset gives a random 32-bit number. */
    private static final int AD_RANDOM = -0x1000 + 56;

    private DatagramSpread() {}

    /**
     * Attaches the program to the group of {@code member} (one attachment serves every socket of
     * the group), which must hold {@code sockets} sockets.
     *
     * @return whether the datagrams are now spread one by one
     * @throws IllegalArgumentException {@code sockets} is below 2
     */
    static boolean attach(Channel member, int sockets) {
        if (sockets < 2) {
            throw new IllegalArgumentException("sockets: " + sockets + " (expected: >= 2)");
        }
        ByteBuffer program = ByteBuffer.allocateDirect(3 * SOCK_FILTER_SIZE).order(ByteOrder.nativeOrder());
        instruction(program, LD_W_ABS, AD_RANDOM);
        instruction(program, ALU_MOD_K, sockets);
        instruction(program, RET_A, 0);
        ByteBuffer fprog = ByteBuffer.allocateDirect(SOCK_FPROG_SIZE).order(ByteOrder.nativeOrder());
        try {
            fprog.putShort(0, (short) 3);
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

    private static void instruction(ByteBuffer program, short code, int k) {
        program.putShort(code).put((byte) 0).put((byte) 0).putInt(k);
    }
}
