package dev.webstack.site;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The post pages, mapped to {@code /posts} and {@code /posts/*}:
 * <ul>
 *   <li>{@code GET /posts/{id}}: the post, or the 404 page;</li>
 *   <li>{@code GET /posts/new}: the form, with a CSRF token in a cookie and a hidden field ({@link Csrf});</li>
 *   <li>{@code POST /posts}: checks the CSRF token (403 page when it fails), validates
 *       ({@link PostInput}; 400 and the form again, with the values entered, when invalid), stores the
 *       post and redirects with 303 to its page, so that reloading does not post it twice.</li>
 * </ul>
 * Anyone may publish; the form of a signed-in visitor starts with their name as the author. The
 * page shown right after publishing reads from the primary ({@link ReadYourWrites}).
 */
public final class PostServlet extends HttpServlet {
    private static final Logger log = LoggerFactory.getLogger(PostServlet.class);
    private static final Pattern POST_PATH = Pattern.compile("/[0-9]{1,18}");

    private final transient Site site;

    public PostServlet(Site site) {
        this.site = site;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = Optional.ofNullable(request.getPathInfo()).orElse("");
        if (path.equals("/new")) {
            showForm(request, response);
            return;
        }
        Optional<Long> id = parseId(path);
        if (id.isEmpty()) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        try {
            Optional<Post> post = site.posts().find(id.get(), site.readYourWrites().readFrom(request));
            if (post.isEmpty()) {
                site.errorPage(request, response, 404, "There is no post " + id.get() + ".");
                return;
            }
            site.templates().write(response, 200, Templates.Page.POST,
                    site.layout(request, post.get().title()), Views.PostPage.of(post.get()));
        } catch (SQLException e) {
            throw new IOException("reading post " + id.get() + ": " + e.getMessage(), e);
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getPathInfo() != null && !request.getPathInfo().equals("/")) {
            response.setHeader("Allow", "GET, HEAD");
            response.sendError(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
            return;
        }
        Csrf.Verdict verdict = site.checkCsrf(request);
        if (verdict != Csrf.Verdict.VALID) {
            log.info("POST /posts refused: CSRF token {}", verdict);
            site.errorPage(request, response, 403,
                    "This form has expired or was not sent from this site. Open the form again and resubmit.");
            return;
        }
        PostInput input = PostInput.of(request.getParameter("title"), request.getParameter("author"), request.getParameter("body"));
        List<String> errors = input.validate();
        if (!errors.isEmpty()) {
            noStore(response);
            site.templates().write(response, 400, Templates.Page.FORM, site.layout(request, "New post"),
                    Views.Form.of(input, request.getParameter(Csrf.FIELD), errors));
            return;
        }
        try {
            Post post = site.posts().insert(input);
            site.readYourWrites().wrote(request, response);
            response.setStatus(HttpServletResponse.SC_SEE_OTHER);
            response.setHeader("Location", request.getContextPath() + "/posts/" + post.id());
        } catch (SQLException e) {
            throw new IOException("storing a post: " + e.getMessage(), e);
        }
    }

    private void showForm(HttpServletRequest request, HttpServletResponse response) {
        String token = site.formToken(request, response);
        String author = SessionFilter.user(request).map(User::name).orElse("");
        site.templates().write(response, 200, Templates.Page.FORM, site.layout(request, "New post"), Views.Form.empty(token, author));
    }

    /** The form page carries a token: no cache may keep it or serve it to someone else. */
    private static void noStore(HttpServletResponse response) {
        response.setHeader("Cache-Control", "no-store");
    }

    /** {@code /123} as 123; anything else (no digits, too large) is no post. */
    static Optional<Long> parseId(String path) {
        if (!POST_PATH.matcher(path).matches()) {
            return Optional.empty();
        }
        return Optional.of(Long.parseLong(path.substring(1)));
    }
}
