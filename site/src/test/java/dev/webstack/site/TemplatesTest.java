package dev.webstack.site;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TemplatesTest {
    static final Templates templates = new Templates();
    static final Views.Layout LAYOUT = new Views.Layout("Page <title>", "", "app-1", "");
    static final String SCRIPT = "<script>alert('x')</script>";

    @Test
    void homeEscapesEverythingVisitorsWrote() {
        Post post = new Post(7, SCRIPT, "body " + SCRIPT, "\"author\" & co", Instant.parse("2025-01-31T12:00:00Z"));
        String html = templates.render(Templates.Page.HOME, LAYOUT, Views.Home.of(List.of(post)));
        assertThat(html)
                .doesNotContain("<script>alert")
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
                .contains("&quot;author&quot; &amp; co")
                .contains("<a href=\"/posts/7\">")
                .contains("<time datetime=\"2025-01-31T12:00:00Z\">31 Jan 2025, 12:00 UTC</time>")
                .contains("<title>Page &lt;title&gt; · foobar.com</title>")
                .contains("href=\"/static/css/site.css\"", "src=\"/static/js/site.js\"", "src=\"/static/img/logo.svg\"")
                .contains("served by <code>app-1</code>");
    }

    @Test
    void homeWithoutPostsInvitesTheFirstOne() {
        assertThat(templates.render(Templates.Page.HOME, LAYOUT, Views.Home.of(List.of())))
                .contains("No posts yet").doesNotContain("post-summary");
    }

    @Test
    void formKeepsTheEnteredValuesEscapedAndShowsErrors() {
        Views.Form form = Views.Form.of(new PostInput("\"><script>", "A", SCRIPT), "tok.1.sig", List.of("author: <missing>"));
        String html = templates.render(Templates.Page.FORM, LAYOUT, form);
        assertThat(html)
                .doesNotContain("<script>")
                .contains("value=\"&quot;&gt;&lt;script&gt;\"")
                .contains("<input type=\"hidden\" name=\"csrf\" value=\"tok.1.sig\">")
                .contains("<li>author: &lt;missing&gt;</li>")
                .contains("maxlength=\"200\"", "maxlength=\"100\"", "maxlength=\"20000\"");
    }

    @Test
    void anEmptyFormShowsNoErrorBox() {
        assertThat(templates.render(Templates.Page.FORM, LAYOUT, Views.Form.empty("t", "")))
                .doesNotContain("class=\"errors\"");
    }

    @Test
    void errorPageForEachStatus() {
        assertThat(templates.render(Templates.Page.ERROR, LAYOUT, ErrorServlet.view(404, "")))
                .contains("Page not found").contains("does not exist");
        assertThat(templates.render(Templates.Page.ERROR, LAYOUT, ErrorServlet.view(500, "")))
                .contains("Something went wrong").doesNotContain("Exception");
        assertThat(templates.render(Templates.Page.ERROR, LAYOUT, ErrorServlet.view(403, "Open the <form> again")))
                .contains("Forbidden").contains("Open the &lt;form&gt; again");
    }

    @Test
    void theHeaderSaysWhoIsSignedInEscaped_orOffersSignInAndSignUp() {
        Views.Layout signedIn = new Views.Layout("Home", "", "app-2", "<b>ada</b>");
        assertThat(templates.render(Templates.Page.HOME, signedIn, Views.Home.of(List.of())))
                .contains("Signed in as <strong>&lt;b&gt;ada&lt;/b&gt;</strong>")
                .contains("href=\"/signout\">Sign out</a>")
                .doesNotContain("href=\"/signin\"");
        assertThat(templates.render(Templates.Page.HOME, LAYOUT, Views.Home.of(List.of())))
                .doesNotContain("Signed in as")
                .contains("href=\"/signin\">Sign in</a>", "href=\"/signup\">Sign up</a>");
    }

    @Test
    void accountFormsPostToTheirPathWithTheTokenAndKeepTheNameButNeverThePassword() {
        String signUp = templates.render(Templates.Page.ACCOUNT, LAYOUT,
                Views.AccountForm.signUp("\"><x", "tok.1.sig", List.of("name: taken")));
        assertThat(signUp)
                .contains("<form class=\"post-form account-form\" method=\"post\" action=\"/signup\">")
                .contains("<input type=\"hidden\" name=\"csrf\" value=\"tok.1.sig\">")
                .contains("value=\"&quot;&gt;&lt;x\"")
                .contains("autocomplete=\"new-password\" minlength=\"8\" maxlength=\"200\"")
                .contains("<li>name: taken</li>")
                .doesNotContain("autocomplete=\"current-password\"");
        String signIn = templates.render(Templates.Page.ACCOUNT, LAYOUT, Views.AccountForm.signIn("ada", "t", List.of()));
        assertThat(signIn)
                .contains("action=\"/signin\"", "autocomplete=\"current-password\"", "value=\"ada\"")
                .doesNotContain("class=\"errors\"");
        assertThat(signIn.replaceAll("(?s).*type=\"password\"([^>]*)>.*", "$1")).doesNotContain("value=");
    }

    @Test
    void excerptsCutAtAWordAfterAbout200Characters() {
        String body = "word ".repeat(100);
        String excerpt = Views.excerpt(body);
        assertThat(excerpt).endsWith("word…").hasSizeLessThanOrEqualTo(Views.EXCERPT + 1);
        assertThat(Views.excerpt("short\n\nbody")).isEqualTo("short body");
    }

    @Test
    void flattenCollapsesWhiteSpaceAndStopsAtTheLimit() {
        assertThat(Views.flatten("  a \t\r\n b\u2003c  ", 10)).isEqualTo("a b c");
        assertThat(Views.flatten("abc def", 4)).isEqualTo("abc ");
        assertThat(Views.flatten("abc   def", 5)).isEqualTo("abc d");
        assertThat(Views.flatten("\uD83D\uDE00x", 1)).isEqualTo("\uD83D\uDE00");
        assertThat(Views.flatten("", 3)).isEmpty();
        assertThat(Views.flatten("one two ", 50)).isEqualTo("one two");
        assertThat(Views.flatten("one\ttwo\n", 50)).isEqualTo("one two");
        assertThat(Views.flatten(" \n ", 50)).isEmpty();
        assertThat(Views.flatten("word ".repeat(100), 12)).isEqualTo("word word wo");
        assertThat(Views.excerpt("x".repeat(5) + " " + "y".repeat(Views.EXCERPT * 10))).hasSizeLessThanOrEqualTo(Views.EXCERPT + 1);
    }
}
