package dev.webstack.site;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON API, mapped to {@code /api/posts} and {@code /api/posts/*}; every answer, errors
 * included, is JSON ({@code {"error": "..."}} for errors):
 * <ul>
 *   <li>{@code GET /api/posts}: {@code {"posts": [...]}}, the {@value HomeServlet#NEWEST} newest;</li>
 *   <li>{@code GET /api/posts/{id}}: one post, or 404;</li>
 *   <li>{@code POST /api/posts}: creates a post from a JSON body ({@link PostJson}): 201 with the stored
 *       post and {@code Location: /api/posts/{id}}; 400 for bad JSON or invalid fields; 413 for a body
 *       over {@value #MAX_BODY_BYTES} bytes; 415 unless {@code Content-Type} is {@code application/json};</li>
 *   <li>any other method: 405 with {@code Allow}.</li>
 * </ul>
 * The POST needs no CSRF token: it only accepts {@code application/json}, which an HTML form on
 * another site cannot send, and a cross-site script cannot send it without a CORS preflight that
 * this API never grants.
 */
public final class ApiPostsServlet extends HttpServlet {
    /** Largest request body: room for a maximal post in 4-byte characters, escaped. */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    private static final Logger log = LoggerFactory.getLogger(ApiPostsServlet.class);

    private final transient Site site;

    public ApiPostsServlet(Site site) {
        this.site = site;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = Optional.ofNullable(request.getPathInfo()).orElse("");
        boolean collection = path.isEmpty() || path.equals("/");
        try {
            switch (request.getMethod()) {
                case "GET", "HEAD" -> {
                    if (collection) {
                        send(response, 200, PostJson.list(site.posts().newest(HomeServlet.NEWEST, site.readYourWrites().readFrom(request))));
                    } else {
                        long id = PostServlet.parseId(path).orElseThrow(() -> new HttpError(404, "no such resource: " + request.getRequestURI()));
                        send(response, 200, PostJson.toJson(site.posts().find(id, site.readYourWrites().readFrom(request))
                                .orElseThrow(() -> new HttpError(404, "post " + id + " not found"))));
                    }
                }
                case "POST" -> {
                    if (!collection) {
                        throw methodNotAllowed(response, "GET, HEAD");
                    }
                    create(request, response);
                }
                default -> throw methodNotAllowed(response, collection ? "GET, HEAD, POST" : "GET, HEAD");
            }
        } catch (HttpError e) {
            send(response, e.status(), PostJson.error(e.getMessage()));
        } catch (SQLException e) {
            log.error("{} {}: database error", request.getMethod(), request.getRequestURI(), e);
            send(response, 500, PostJson.error("internal error: the database did not answer; try again"));
        }
    }

    private void create(HttpServletRequest request, HttpServletResponse response) throws IOException, SQLException {
        String type = Optional.ofNullable(request.getContentType()).orElse("");
        String mediaType = type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw new HttpError(415, "Content-Type: '" + type + "' (expected: application/json)");
        }
        PostInput input = PostJson.parse(readBody(request));
        var errors = input.validate();
        if (!errors.isEmpty()) {
            throw new HttpError(400, String.join("; ", errors));
        }
        Post post = site.posts().insert(input);
        site.readYourWrites().wrote(request, response);
        response.setHeader("Location", request.getContextPath() + "/api/posts/" + post.id());
        send(response, 201, PostJson.toJson(post));
    }

    private static byte[] readBody(HttpServletRequest request) throws IOException {
        if (request.getContentLengthLong() > MAX_BODY_BYTES) {
            throw new HttpError(413, "body: " + request.getContentLengthLong() + " bytes (expected: at most " + MAX_BODY_BYTES + ")");
        }
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                throw new HttpError(413, "body: more than " + MAX_BODY_BYTES + " bytes");
            }
            return body;
        }
    }

    private static HttpError methodNotAllowed(HttpServletResponse response, String allow) {
        response.setHeader("Allow", allow);
        return new HttpError(405, "method not allowed (allowed: " + allow + ")");
    }

    private static void send(HttpServletResponse response, int status, com.fasterxml.jackson.databind.JsonNode body) throws IOException {
        byte[] bytes = PostJson.bytes(body);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
