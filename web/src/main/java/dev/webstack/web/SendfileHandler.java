package dev.webstack.web;

import dev.webstack.common.process.LibC;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the files of an io_uring connection with {@code sendfile(2)}, as nginx and Netty's epoll
 * transport do, instead of Netty's io_uring way: {@code splice(2)} into a pipe and out of it again,
 * 64 KB per two completions, which served a 1 MB file at about 0.6x nginx's rate here
 * ({@code bench/README.md}).
 *
 * <p>Added first in the pipeline (next to the socket) by {@link #install} when a connection first
 * sends a file, so it sees the encoded bytes. A {@link FileBody} written to it is held back until
 * the bytes before it (the answer's headers) are on the socket; then, on the event loop, as much of
 * the file as the socket takes now goes out with {@code sendfile} on the socket's descriptor. What
 * the socket did not take (a slow client, a full send buffer) is written on through Netty as a
 * {@link DefaultFileRegion} of the rest, which waits for the socket as usual. Writes that come
 * while a file is held wait behind it, in order.
 *
 * <p>Netty keeps io_uring sockets blocking (the ring does the waiting), so a plain {@code sendfile}
 * would stall the event loop until a slow client had read the file: the socket is switched to
 * {@code O_NONBLOCK} for the call and back right after ({@code fcntl}, {@link LibC}), on the event
 * loop, while no write of Netty's is in flight on it (the bytes before the file are written, the
 * ones after it wait here). Netty's public API has no sendfile for io_uring; its epoll native
 * library, which the web tier ships for the epoll transport, has one ({@code LinuxSocket.sendFile}),
 * reached by reflection. Where either cannot be reached, {@link #install} does nothing and Netty's
 * own way is used.
 */
final class SendfileHandler extends ChannelOutboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(SendfileHandler.class);
    private static final SendFile SEND_FILE = SendFile.find();

    /** A file's body that remembers its file, so that the rest of a partly sent file can be written on. */
    static final class FileBody extends DefaultFileRegion {
        final FileChannel file;

        FileBody(FileChannel file, long position, long count) {
            super(file, position, count);
            this.file = file;
        }
    }

    private record Pending(Object msg, ChannelPromise promise) {
    }

    private final int fd;
    private final Object socket;
    private final ArrayDeque<Pending> behind = new ArrayDeque<>();
    private FileBody held;
    private ChannelPromise heldPromise;
    private boolean flushBehind;

    private SendfileHandler(int fd, Object socket) {
        this.fd = fd;
        this.socket = socket;
    }

    /**
     * Adds the handler to an io_uring connection's pipeline, once; does nothing on other transports
     * or where sendfile cannot be reached (Netty's own way is used).
     */
    static void install(Channel ch) {
        if (SEND_FILE == null || !(ch instanceof IoUringSocketChannel uring)
                || ch.pipeline().get(SendfileHandler.class) != null) {
            return;
        }
        try {
            int fd = uring.fd().intValue();
            ch.pipeline().addFirst("sendfile", new SendfileHandler(fd, SEND_FILE.socket(fd)));
        } catch (ReflectiveOperationException e) {
            log.debug("sendfile unavailable on {}: {}", ch, e.toString());
        }
    }

    /** Whether {@link #install} can work in this process (io_uring connections and Netty's epoll library). */
    static boolean available() {
        return SEND_FILE != null;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (held != null) {
            behind.add(new Pending(msg, promise));
        } else if (msg instanceof FileBody body && body.count() > 0) {
            held = body;
            heldPromise = promise;
            // Completes once everything written before the file is on the socket.
            ctx.write(Unpooled.EMPTY_BUFFER).addListener(f -> headersWritten(ctx, f));
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (held != null) {
            flushBehind = true;
        }
        ctx.flush();
    }

    private void headersWritten(ChannelHandlerContext ctx, Future<?> f) {
        FileBody body = held;
        if (body == null) {
            return; // failed already: the handler was removed with the connection
        }
        if (!f.isSuccess() || !ctx.channel().isOpen()) {
            fail(body, f.cause() != null ? f.cause() : new IOException("connection closed"));
            return;
        }
        long sent = 0;
        // On the event loop, which alone closes the socket: the descriptor is still this connection's.
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        try {
            if (flags < 0 || LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0) {
                throw new IOException("fcntl(O_NONBLOCK) failed on the client socket");
            }
            try {
                while (sent < body.count()) {
                    long n = SEND_FILE.send(socket, body, sent);
                    if (n <= 0) {
                        break;
                    }
                    sent += n;
                }
            } finally {
                LibC.fcntl(fd, LibC.F_SETFL, flags);
            }
        } catch (IOException | ReflectiveOperationException e) {
            fail(body, e);
            ctx.close();
            return;
        }
        ChannelPromise promise = heldPromise;
        held = null;
        heldPromise = null;
        if (sent == body.count()) {
            body.release();
            promise.setSuccess();
        } else {
            // The socket is full: the rest goes through Netty, which waits for it. The file stays open
            // until then (releasing either region closes it).
            DefaultFileRegion rest = new DefaultFileRegion(body.file, body.position() + sent, body.count() - sent);
            ctx.write(rest, promise).addListener(r -> body.release());
        }
        while (!behind.isEmpty() && held == null) {
            Pending p = behind.poll();
            write(ctx, p.msg(), p.promise());
        }
        if (flushBehind) {
            flushBehind = held != null;
            ctx.flush();
        }
    }

    private void fail(FileBody body, Throwable cause) {
        ChannelPromise promise = heldPromise;
        held = null;
        heldPromise = null;
        body.release();
        promise.tryFailure(cause);
        for (Pending p; (p = behind.poll()) != null; ) {
            ReferenceCountUtil.release(p.msg());
            p.promise().tryFailure(cause);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            fail(held, new IOException("connection closed"));
        }
    }

    /** Netty's epoll {@code LinuxSocket}: a socket object for a descriptor and its {@code sendFile}. */
    private record SendFile(Constructor<?> socketOf, Method sendFile) {
        static SendFile find() {
            if (!Epoll.isAvailable() || !LibC.available()) {
                return null;
            }
            try {
                Class<?> linuxSocket = Class.forName("io.netty.channel.epoll.LinuxSocket");
                Constructor<?> socketOf = linuxSocket.getDeclaredConstructor(int.class);
                Method sendFile = linuxSocket.getDeclaredMethod("sendFile",
                        DefaultFileRegion.class, long.class, long.class, long.class);
                socketOf.setAccessible(true);
                sendFile.setAccessible(true);
                return new SendFile(socketOf, sendFile);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                log.debug("sendfile for io_uring unavailable: {}", e.toString());
                return null;
            }
        }

        Object socket(int fd) throws ReflectiveOperationException {
            return socketOf.newInstance(fd);
        }

        /** Bytes sent from {@code offset} of {@code body}, 0 when the socket takes none now. */
        long send(Object socket, DefaultFileRegion body, long offset) throws IOException, ReflectiveOperationException {
            try {
                return (long) sendFile.invoke(socket, body, body.position(), offset, body.count() - offset);
            } catch (java.lang.reflect.InvocationTargetException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw e;
            }
        }
    }
}
