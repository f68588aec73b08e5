package dev.webstack.site;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;

/**
 * Read-your-writes with reads on an asynchronous replica: a visitor who just wrote (published,
 * signed up, in or out) gets the short-lived cookie {@value #COOKIE}, and while the browser sends
 * it their reads go to the primary. It lives {@code window}: the app server sends reads to the
 * replica only while it lags at most {@code app.replica-max-lag} behind, and the window is that
 * bound plus a second, so by the time the cookie expires the replica has the write.
 *
 * <p>Clients without cookies (the JSON API) get the stored post in the answer to their POST; a
 * post looked up by id that the replica does not have yet is looked up on the primary too
 * ({@link PostRepository#find}).
 */
public final class ReadYourWrites {
    public static final String COOKIE = "rw";

    private final Duration window;

    public ReadYourWrites(Duration window) {
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window: " + window + " (expected: > 0)");
        }
        this.window = window;
    }

    public Database.ReadFrom readFrom(HttpServletRequest request) {
        return Cookies.get(request, COOKIE).isPresent() ? Database.ReadFrom.PRIMARY : Database.ReadFrom.ANY;
    }

    /** Marks the response of a write: this browser reads from the primary for the next {@code window}. */
    public void wrote(HttpServletRequest request, HttpServletResponse response) {
        Cookies.set(request, response, COOKIE, "1", window);
    }

    public Duration window() {
        return window;
    }
}
