package dev.webstack.web;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Gives every request an {@code X-Request-Id}: the client's when it is a plausible id (at most
 * {@value #MAX_LENGTH} characters of {@code [A-Za-z0-9._:-]}), else 128 random bits in hex. The id
 * travels to the app server with the request, comes back to the client on the response and ends up
 * in the access log, so one id ties the three together.
 */
final class RequestIdHandler extends ChannelDuplexHandler {
    static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final int MAX_LENGTH = 128;
    private static final byte[] DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_LENGTH + "}");

    // One request at a time reaches this handler (PipeliningHandler), so one id is current.
    // An AsciiString: the response encoder copies it as bytes.
    private AsciiString current = AsciiString.of("-");

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest req) {
            String incoming = req.headers().get(X_REQUEST_ID);
            current = incoming != null && isValid(incoming) ? AsciiString.of(incoming) : generate();
            req.headers().set(X_REQUEST_ID, current);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse res) {
            res.headers().set(X_REQUEST_ID, current);
        }
        ctx.write(msg, promise);
    }

    static boolean isValid(String id) {
        return VALID.matcher(id).matches();
    }

    static AsciiString generate() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        byte[] hex = new byte[32];
        writeHex(random.nextLong(), hex, 0);
        writeHex(random.nextLong(), hex, 16);
        return new AsciiString(hex, false);
    }

    /** The 16 lower-case hex digits of {@code bits} into {@code to} from {@code at}. */
    private static void writeHex(long bits, byte[] to, int at) {
        for (int i = 15; i >= 0; i--) {
            to[at + i] = DIGITS[(int) (bits & 0xf)];
            bits >>>= 4;
        }
    }
}
