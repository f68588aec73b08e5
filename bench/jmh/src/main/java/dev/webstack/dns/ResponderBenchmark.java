package dev.webstack.dns;

import dev.webstack.common.config.DnsConfig;
import dev.webstack.common.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;
import org.xbill.DNS.DClass;

/**
 * The DNS tier's answer to a query, from the query's bytes to the response's, on the real
 * {@code foobar.com} zone (copied from {@code zones/} into this jar): {@link Responder#respond},
 * the prepared-bytes fast path with the ID, flags and question case patched in, against the
 * dnsjava slow path it stands in front of ({@link QueryHandler#handle}: parse, look up, render).
 * Queries: {@code www.foobar.com A} as a stub resolver sends it ({@code plain}: RD, no EDNS) and
 * as a recursive resolver does ({@code edns}: EDNS0, 1232-byte payload, DO set).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResponderBenchmark {
    @Param({"plain", "edns"})
    public String query;

    private Path zoneFile;
    private Responder responder;
    private ByteBuf wire;
    private byte[] bytes;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Setup
    public void setUp() throws IOException {
        zoneFile = Files.createTempFile("foobar.com-", ".zone");
        try (InputStream in = ResponderBenchmark.class.getResourceAsStream("/zones/foobar.com.zone")) {
            if (in == null) {
                throw new IllegalStateException("zones/foobar.com.zone is not in the benchmark jar");
            }
            Files.copy(in, zoneFile, StandardCopyOption.REPLACE_EXISTING);
        }
        DnsConfig config = new DnsConfig(new HostPort("127.0.0.1", 0), List.of(new DnsConfig.Zone("foobar.com.", zoneFile)), 1232);
        responder = new Responder(ZoneLoader.loadAll(config), config.udpPayload());

        // Mixed case, as resolvers using 0x20 randomisation send it: the fast path copies the case back.
        Message q = Message.newQuery(Record.newRecord(Name.fromString("wWw.FooBar.com."), Type.A, DClass.IN));
        q.getHeader().setID(0x1234);
        if (query.equals("edns")) {
            q.addRecord(new OPTRecord(1232, 0, 0, org.xbill.DNS.ExtendedFlags.DO), Section.ADDITIONAL);
        }
        bytes = q.toWire();
        wire = Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
        check();
    }

    /** Both paths give the same answer, and it is the zone's: the benchmark measures a real response. */
    private void check() throws IOException {
        ByteBuf fast = responder.fastPath(wire.duplicate(), QueryHandler.Transport.UDP, alloc);
        if (fast == null) {
            throw new IllegalStateException("the query did not take the fast path");
        }
        byte[] fastBytes = ByteBufUtil.getBytes(fast);
        fast.release();
        byte[] slowBytes = responder.slowPath().handle(bytes, QueryHandler.Transport.UDP).orElseThrow();
        Message answer = new Message(fastBytes);
        if (!java.util.Arrays.equals(fastBytes, slowBytes) || answer.getSection(Section.ANSWER).isEmpty()) {
            throw new IllegalStateException("unexpected answer:\n" + answer);
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        Files.deleteIfExists(zoneFile);
    }

    /** What the UDP and TCP handlers call: the fast path, as the server runs. Returns the response's size. */
    @Benchmark
    public int respond() {
        ByteBuf response = responder.respond(wire.duplicate(), QueryHandler.Transport.UDP, alloc);
        int size = response.readableBytes();
        response.release();
        return size;
    }

    /** The dnsjava path alone, for comparison: what every query cost before the prepared answers. */
    @Benchmark
    public Optional<byte[]> slowPath() {
        return responder.slowPath().handle(bytes, QueryHandler.Transport.UDP);
    }
}
