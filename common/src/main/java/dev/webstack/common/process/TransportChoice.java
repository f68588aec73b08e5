package dev.webstack.common.process;

import java.util.Locale;

/**
 * The socket transport a tier process is asked to use: the system property {@value #PROPERTY},
 * else the environment variable {@value #ENVIRONMENT} ({@code io_uring}, {@code epoll},
 * {@code nio}; {@code auto} when neither is set). One switch for the web and DNS tiers, which
 * each fall back from what is asked to what the platform has.
 */
public final class TransportChoice {
    public static final String PROPERTY = "webstack.transport";
    /** The same choice for every tier process {@code ./webstack up} starts, which inherit the environment. */
    public static final String ENVIRONMENT = "WEBSTACK_TRANSPORT";

    private TransportChoice() {}

    /** What is asked, in lower case: {@code io_uring}, {@code epoll}, {@code nio}, or {@code auto} (or anything else, taken as auto). */
    public static String wanted() {
        String env = System.getenv(ENVIRONMENT);
        return System.getProperty(PROPERTY, env == null ? "auto" : env).toLowerCase(Locale.ROOT);
    }
}
