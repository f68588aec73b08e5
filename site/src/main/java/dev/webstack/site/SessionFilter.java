package dev.webstack.site;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Finds who is signed in, from the {@value SessionStore#COOKIE} cookie and the {@code sessions}
 * table, before the HTML pages run, and leaves it in the request attribute {@value #USER}
 * ({@link #user}). A page for a signed-in visitor is marked {@code Cache-Control: private}: it
 * shows their name, so no shared cache may keep it.
 */
final class SessionFilter extends HttpFilter {
    static final String USER = "dev.webstack.site.user";

    private final transient Site site;

    SessionFilter(Site site) {
        this.site = site;
    }

    /** Who is signed in for this request; empty for visitors who are not. */
    static Optional<User> user(HttpServletRequest request) {
        return request.getAttribute(USER) instanceof User u ? Optional.of(u) : Optional.empty();
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Optional<String> token = Cookies.get(request, SessionStore.COOKIE);
        if (token.isPresent()) {
            try {
                Optional<User> user = site.sessions().user(token.get(), site.readYourWrites().readFrom(request));
                if (user.isPresent()) {
                    request.setAttribute(USER, user.get());
                    response.setHeader("Cache-Control", "private");
                }
            } catch (SQLException e) {
                throw new IOException("looking up the session: " + e.getMessage(), e);
            }
        }
        chain.doFilter(request, response);
    }
}
