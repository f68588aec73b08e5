package dev.webstack.site;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.SQLException;

/**
 * {@code GET /}: the {@value #NEWEST} newest posts. Mapped as the default servlet ({@code /}), so it
 * also answers every path no other servlet claims, with 404.
 */
public final class HomeServlet extends HttpServlet {
    public static final int NEWEST = 20;

    private final transient Site site;

    public HomeServlet(Site site) {
        this.site = site;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        if (!path.equals("/") && !path.isEmpty()) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        try {
            Views.Home view = Views.Home.of(site.posts().newest(NEWEST, site.readYourWrites().readFrom(request)));
            site.templates().write(response, 200, Templates.Page.HOME, site.layout(request, "Latest posts"), view);
        } catch (SQLException e) {
            throw new IOException("reading the newest posts: " + e.getMessage(), e);
        }
    }
}
