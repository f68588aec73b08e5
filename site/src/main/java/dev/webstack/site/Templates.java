package dev.webstack.site;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The site's HTML pages: Mustache templates under {@code templates/} on the webapp's class path,
 * all compiled at start-up so that a broken template stops the deployment instead of one page.
 * Every {@code {{value}}} is HTML-escaped (Mustache's default); the templates use no triple
 * mustaches, so no visitor-supplied text ever reaches a page unescaped.
 *
 * <p>A page is rendered with two scopes: the page's own view (see {@link Views}) and the
 * {@link Views.Layout} that the shared header and footer partials read.
 */
public final class Templates {
    /** The pages; each is {@code templates/NAME.mustache}. */
    public enum Page { HOME, POST, FORM, ERROR, ACCOUNT, SIGNOUT }

    private final Map<Page, Mustache> compiled;

    public Templates() {
        MustacheFactory factory = new DefaultMustacheFactory("templates");
        this.compiled = List.of(Page.values()).stream().collect(Collectors.toUnmodifiableMap(
                Function.identity(), p -> factory.compile(p.name().toLowerCase(Locale.ROOT) + ".mustache")));
    }

    public String render(Page page, Views.Layout layout, Object view) {
        StringWriter out = new StringWriter();
        compiled.get(page).execute(out, new Object[] {layout, view});
        return out.toString();
    }

    /**
     * Renders {@code page} as the whole response, with {@code status}. The page is encoded in one
     * {@code getBytes} and sent with its Content-Length: Jetty's response writer encodes char by
     * char, which was the largest cost of the home page after the template itself, and a known
     * length spares the web tier a chunked body.
     */
    public void write(HttpServletResponse response, int status, Page page, Views.Layout layout, Object view) {
        byte[] html = render(page, layout, view).getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/html;charset=utf-8");
        response.setContentLength(html.length);
        try {
            response.getOutputStream().write(html);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
