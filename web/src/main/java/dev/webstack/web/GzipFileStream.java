package dev.webstack.web;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file gzip-compressed while it is sent, for text files too large to keep a compressed copy of
 * (nginx's {@code gzip on} for static files). The answer is chunked; each piece of
 * {@value #READ_BYTES} bytes of the file is read, compressed (level {@value #LEVEL}, nginx's default
 * {@code gzip_comp_level 1}) and written only once the previous piece was written, so a slow client
 * holds one piece in memory, not the file.
 */
final class GzipFileStream {
    private static final Logger log = LoggerFactory.getLogger(GzipFileStream.class);
    static final int READ_BYTES = 64 * 1024;
    static final int LEVEL = 1;

    private final ChannelHandlerContext ctx;
    private final FileChannel file;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BYTES);
    private final Sink sink = new Sink();
    private final GZIPOutputStream gzip;

    private GzipFileStream(ChannelHandlerContext ctx, FileChannel file) throws IOException {
        this.ctx = ctx;
        this.file = file;
        // The gzip header is written as the stream is made: into the first piece.
        sink.target = ctx.alloc().buffer(READ_BYTES / 2);
        this.gzip = new GZIPOutputStream(sink, READ_BYTES) {
            {
                def.setLevel(LEVEL);
            }
        };
    }

    /** Sends {@code head} and then {@code path} compressed; false, having sent nothing, when the file cannot be opened. */
    static boolean send(ChannelHandlerContext ctx, Path path, HttpResponse head) {
        FileChannel channel = StaticFiles.open(path);
        if (channel == null) {
            return false;
        }
        GzipFileStream stream;
        try {
            stream = new GzipFileStream(ctx, channel);
        } catch (IOException e) {
            closeQuietly(channel);
            return false;
        }
        // (The constructor's first piece holds the gzip header; next() fills it on.)
        ctx.write(head);
        stream.next();
        return true;
    }

    /** Reads, compresses and writes the next piece; the last one ends the answer. */
    private void next() {
        ByteBuf out = sink.target != null ? sink.target : ctx.alloc().buffer(READ_BYTES / 2);
        sink.target = out;
        boolean last;
        try {
            do {
                readBuffer.clear();
                int n = file.read(readBuffer);
                last = n < 0;
                if (last) {
                    gzip.finish();
                } else {
                    gzip.write(readBuffer.array(), 0, n);
                }
                // A piece that compressed into the deflater's window alone: read on.
            } while (!last && !out.isReadable());
        } catch (IOException e) {
            sink.target = null;
            out.release();
            log.info("static: gzip of a file failed after the answer started: {}", e.toString());
            end();
            ctx.close();
            return;
        }
        if (last) {
            sink.target = null;
            end();
            ctx.writeAndFlush(new DefaultLastHttpContent(out));
            return;
        }
        sink.target = null;
        ChannelFuture written = ctx.writeAndFlush(new DefaultHttpContent(out));
        written.addListener(f -> {
            if (f.isSuccess()) {
                next();
            } else {
                end();
            }
        });
    }

    private void end() {
        sink.target = null;
        closeQuietly(file);
        // Releases the deflater's native memory now, not at garbage collection.
        try {
            gzip.close();
        } catch (IOException | RuntimeException e) {
            // nothing left to write to
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // read-only
        }
    }

    /** Where the compressor writes: the piece being built, or nowhere once the answer ended. */
    private static final class Sink extends OutputStream {
        ByteBuf target;

        @Override
        public void write(int b) {
            if (target != null) {
                target.writeByte(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (target != null) {
                target.writeBytes(b, off, len);
            }
        }
    }
}
