package dev.webstack.web;

import dev.webstack.common.process.LibC;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.FileDescriptor;
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
 * sends a file, so it sees the encoded bytes. When nothing of the connection's is queued or in
 * flight in Netty, the bytes written before a {@link FileBody} (the answer's headers) are held here
 * too, and at the flush both go out at once, on the event loop: the headers with {@code write(2)},
 * then as much of the file as the socket takes now with {@code sendfile}, as nginx sends them
 * ({@code writev} and {@code sendfile} in one go). Otherwise the file waits until the bytes before
 * it are on the socket, written by Netty, and goes out then. Handing the headers to the ring
 * instead, and sending the file on their completion, cost each answer a turn of its event loop,
 * where the other connections' files were being sent: 0.3–2 ms before half the 1 MB answers
 * started, under load ({@code bench/README.md}). What the socket did not take (a slow client, a
 * full send buffer) is written on through Netty (the rest of the headers, then a
 * {@link DefaultFileRegion} of the rest of the file), which waits for the socket as usual. Writes
 * that come while a file is held wait behind it, in order.
 *
 * <p>Netty keeps io_uring sockets blocking (the ring does the waiting), so a plain {@code sendfile}
 * would stall the event loop until a slow client had read the file: the socket is switched to
 * {@code O_NONBLOCK} for the calls and back right after ({@code fcntl}, {@link LibC}), on the event
 * loop, while no write of Netty's is in flight on it (the bytes before the file are written, the
 * ones after it wait here). Netty's public API has no sendfile for io_uring; its epoll native
 * library, which the web tier ships for the epoll transport, has one ({@code LinuxSocket.sendFile}),
 * reached by reflection, and its sockets' plain {@code write}. Where either cannot be reached,
 * {@link #install} does nothing and Netty's own way is used.
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

    /** The most bytes held back before a file, to go out with it: an answer's headers fit many times over. */
    static final int MAX_HEAD_BYTES = 16 * 1024;

    private final int fd;
    private final FileDescriptor socket;
    private final ArrayDeque<Pending> behind = new ArrayDeque<>();
    private FileBody held;
    private ChannelPromise heldPromise;
    private boolean flushBehind;
    // Bytes written while Netty had nothing of this connection's, held in case a file follows:
    // with a file held as well, both go out at the next flush (sendWithHead).
    private ByteBuf head;
    private ChannelPromise headPromise;
    private int socketFlags = -1; // fcntl(F_GETFL), read at the first file

    private SendfileHandler(int fd, FileDescriptor socket) {
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
            if (head == null) {
                // Completes once everything written before the file is on the socket.
                ctx.write(Unpooled.EMPTY_BUFFER).addListener(f -> headersWritten(ctx, f));
            } // else both go out at the flush (sendWithHead)
        } else if (head == null && msg instanceof ByteBuf buf && buf.hasMemoryAddress()
                && buf.readableBytes() <= MAX_HEAD_BYTES && nothingQueued(ctx)) {
            head = buf;
            headPromise = promise;
        } else {
            passHead(ctx);
            ctx.write(msg, promise);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (held != null && head != null) {
            sendWithHead(ctx);
            return;
        }
        passHead(ctx);
        if (held != null) {
            flushBehind = true;
        }
        ctx.flush();
    }

    /** Whether Netty holds nothing of this connection's: no write in flight, none waiting for a flush. */
    private static boolean nothingQueued(ChannelHandlerContext ctx) {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        return out != null && out.isEmpty() && out.totalPendingWriteBytes() == 0;
    }

    /** Gives the held bytes (no file followed them) to Netty, in their place in the order. */
    private void passHead(ChannelHandlerContext ctx) {
        if (head != null) {
            ByteBuf h = head;
            ChannelPromise p = headPromise;
            head = null;
            headPromise = null;
            ctx.write(h, p);
        }
    }

    /** The held bytes and then the held file, on the socket now; what it does not take goes through Netty. */
    private void sendWithHead(ChannelHandlerContext ctx) {
        ByteBuf h = head;
        ChannelPromise hp = headPromise;
        head = null;
        headPromise = null;
        FileBody body = held;
        long sent = -1; // -1: the headers did not all fit, the file waits for Netty to write them
        try {
            nonBlocking();
            try {
                while (h.isReadable()) {
                    int n = socket.writeAddress(h.memoryAddress(), h.readerIndex(), h.writerIndex());
                    if (n <= 0) {
                        break;
                    }
                    h.skipBytes(n);
                }
                if (!h.isReadable()) {
                    sent = sendNow(body);
                }
            } finally {
                blockingAgain();
            }
        } catch (IOException | ReflectiveOperationException e) {
            h.release();
            hp.tryFailure(e);
            fail(body, e);
            ctx.close();
            return;
        }
        if (sent < 0) {
            // A full socket (a slow client): the rest of the headers through Netty, the file after them.
            ctx.write(h, hp);
            ctx.write(Unpooled.EMPTY_BUFFER).addListener(f -> headersWritten(ctx, f));
            flushBehind = true;
            ctx.flush();
            return;
        }
        h.release();
        hp.trySuccess();
        fileSent(ctx, sent, true);
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
        long sent;
        // On the event loop, which alone closes the socket: the descriptor is still this connection's.
        try {
            nonBlocking();
            try {
                sent = sendNow(body);
            } finally {
                blockingAgain();
            }
        } catch (IOException | ReflectiveOperationException e) {
            fail(body, e);
            ctx.close();
            return;
        }
        fileSent(ctx, sent, flushBehind);
    }

    /**
     * Switches the socket to {@code O_NONBLOCK}; {@link #blockingAgain} switches it back. Its flags
     * are read once: Netty sets an io_uring socket's flags when it makes the socket and never
     * changes them.
     */
    private void nonBlocking() throws IOException {
        if (socketFlags < 0) {
            socketFlags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        }
        if (socketFlags < 0 || LibC.fcntl(fd, LibC.F_SETFL, socketFlags | LibC.O_NONBLOCK) < 0) {
            throw new IOException("fcntl(O_NONBLOCK) failed on the client socket");
        }
    }

    /** The socket's flags as Netty set them (blocking), after {@link #nonBlocking}. */
    private void blockingAgain() {
        LibC.fcntl(fd, LibC.F_SETFL, socketFlags);
    }

    /** As much of {@code body} as the (non-blocking) socket takes now; the bytes sent. */
    private long sendNow(FileBody body) throws IOException, ReflectiveOperationException {
        long sent = 0;
        while (sent < body.count()) {
            long n = SEND_FILE.send(socket, body, sent);
            if (n <= 0) {
                break;
            }
            sent += n;
        }
        return sent;
    }

    /** The held file, {@code sent} bytes of it on the socket: the rest through Netty, then the writes behind it. */
    private void fileSent(ChannelHandlerContext ctx, long sent, boolean flush) {
        FileBody body = held;
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
        flushBehind = false;
        while (!behind.isEmpty() && held == null) {
            Pending p = behind.poll();
            write(ctx, p.msg(), p.promise());
        }
        if (flush) {
            flush(ctx); // owed again (flushBehind) if another file is held now
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
        if (head != null) {
            ByteBuf h = head;
            head = null;
            h.release();
            headPromise.tryFailure(new IOException("connection closed"));
            headPromise = null;
        }
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

        FileDescriptor socket(int fd) throws ReflectiveOperationException {
            return (FileDescriptor) socketOf.newInstance(fd);
        }

        /** Bytes sent from {@code offset} of {@code body}, 0 when the socket takes none now. */
        long send(FileDescriptor socket, DefaultFileRegion body, long offset) throws IOException, ReflectiveOperationException {
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
