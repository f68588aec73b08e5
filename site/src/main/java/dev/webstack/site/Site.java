package dev.webstack.site;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;

/**
 * What the servlets share, built once by {@link SiteListener} when the webapp starts.
 *
 * @param instance the app server's name ({@code webstack.instance}), shown in the footer
 */
public record Site(
        PostRepository posts,
        UserRepository users,
        SessionStore sessions,
        ReadYourWrites readYourWrites,
        Templates templates,
        Csrf csrf,
        String instance) {

    /** Answers with the friendly HTML error page for {@code status}. */
    public void errorPage(HttpServletRequest request, HttpServletResponse response, int status, String message) {
        Views.ErrorPage view = ErrorServlet.view(status, message);
        templates.write(response, status, Templates.Page.ERROR, layout(request, view.heading()), view);
    }

    public Views.Layout layout(HttpServletRequest request, String pageTitle) {
        return Views.Layout.of(request, instance, pageTitle, SessionFilter.user(request));
    }

    /**
     * The CSRF token for a form page: the visitor's own while it is fresh, else a new one set in
     * the cookie. The page must not be cached ({@code no-store}): it carries the token.
     */
    public String formToken(HttpServletRequest request, HttpServletResponse response) {
        String current = Cookies.get(request, Csrf.COOKIE).orElse("");
        String token = csrf.tokenFor(current);
        if (!token.equals(current)) {
            Cookies.set(request, response, Csrf.COOKIE, token, Csrf.MAX_AGE);
        }
        response.setHeader("Cache-Control", "no-store");
        return token;
    }

    /** Checks a form POST's CSRF token pair (cookie and field); only {@link Csrf.Verdict#VALID} lets it through. */
    public Csrf.Verdict checkCsrf(HttpServletRequest request) {
        return csrf.verify(Cookies.get(request, Csrf.COOKIE).orElse(""),
                Optional.ofNullable(request.getParameter(Csrf.FIELD)).orElse(""));
    }
}
