package dev.webstack.site;

/**
 * A request the site refuses, with the HTTP status to answer and a message for the client.
 * Thrown while handling a request; {@link ApiPostsServlet} turns it into {@code {"error": ...}}.
 */
public final class HttpError extends RuntimeException {
    private final int status;

    public HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
