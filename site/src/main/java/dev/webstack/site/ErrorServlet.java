package dev.webstack.site;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The friendly error pages: {@code web.xml} maps every error ({@code sendError} and uncaught
 * exceptions) to {@value #PATH}. An exception's details are logged, never shown.
 */
public final class ErrorServlet extends HttpServlet {
    public static final String PATH = "/error";

    private static final Logger log = LoggerFactory.getLogger(ErrorServlet.class);

    private final transient Site site;

    public ErrorServlet(Site site) {
        this.site = site;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        // Requested directly rather than dispatched for an error: there is no page here.
        int status = code instanceof Integer i ? i : 404;
        if (request.getAttribute(RequestDispatcher.ERROR_EXCEPTION) instanceof Throwable t) {
            log.error("{} {}: {}", request.getMethod(), request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI), t.toString(), t);
        }
        response.setHeader("Cache-Control", "no-store");
        site.errorPage(request, response, status, "");
    }

    /** The page for {@code status}; {@code message}, when not empty, replaces the standard explanation. */
    static Views.ErrorPage view(int status, String message) {
        String heading = switch (status) {
            case 400 -> "Bad request";
            case 403 -> "Forbidden";
            case 404 -> "Page not found";
            case 405 -> "Method not allowed";
            case 413 -> "Request too large";
            case 503 -> "Temporarily unavailable";
            default -> status >= 500 ? "Something went wrong" : "Request refused";
        };
        String standard = switch (status) {
            case 404 -> "The page you asked for does not exist. It may have been moved, or the address may be mistyped.";
            case 405 -> "This address does not accept that kind of request.";
            case 503 -> "The site is busy or being updated. Please try again in a moment.";
            default -> status >= 500
                    ? "An error on our side stopped this page. It has been logged; please try again in a moment."
                    : "The request could not be handled.";
        };
        return new Views.ErrorPage(status, heading, message.isEmpty() ? standard : message);
    }
}
