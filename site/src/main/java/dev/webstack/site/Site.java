package dev.webstack.site;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * What the servlets share, built once by {@link SiteListener} when the webapp starts.
 *
 * @param instance the app server's name ({@code webstack.instance}), shown in the footer
 */
public record Site(PostRepository posts, Templates templates, Csrf csrf, String instance) {

    /** Answers with the friendly HTML error page for {@code status}. */
    public void errorPage(HttpServletRequest request, HttpServletResponse response, int status, String message) {
        Views.ErrorPage view = ErrorServlet.view(status, message);
        templates.write(response, status, Templates.Page.ERROR, layout(request, view.heading()), view);
    }

    public Views.Layout layout(HttpServletRequest request, String pageTitle) {
        return Views.Layout.of(request, instance, pageTitle);
    }
}
