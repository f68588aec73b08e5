package dev.webstack.site;

import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What the templates show: one record per page, plus the {@link Layout} every page shares. */
public final class Views {
    /** How long an excerpt on the home page is, at most, in characters. */
    public static final int EXCERPT = 200;

    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("d MMM yyyy, HH:mm 'UTC'", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    private Views() {}

    /**
     * @param pageTitle  the {@code <title>}
     * @param base       the webapp's context path ("" at the root), prefixed to the site's own links
     * @param instance   the app server that rendered the page
     * @param signedInAs the signed-in visitor's name, "" for visitors who are not
     */
    public record Layout(String pageTitle, String base, String instance, String signedInAs) {
        public static Layout of(HttpServletRequest request, String instance, String pageTitle, Optional<User> user) {
            return new Layout(pageTitle, request.getContextPath(), instance, user.map(User::name).orElse(""));
        }

        public boolean signedIn() {
            return !signedInAs.isEmpty();
        }
    }

    public record Summary(long id, String title, String author, String date, String isoDate, String excerpt) {
        static Summary of(Post p) {
            return new Summary(p.id(), p.title(), p.author(), DATE.format(p.createdAt()), iso(p.createdAt()), Views.excerpt(p.body()));
        }
    }

    public record Home(List<Summary> posts) {
        public static Home of(List<Post> posts) {
            return new Home(posts.stream().map(Summary::of).toList());
        }
    }

    public record PostPage(long id, String title, String author, String date, String isoDate, String body) {
        public static PostPage of(Post p) {
            return new PostPage(p.id(), p.title(), p.author(), DATE.format(p.createdAt()), iso(p.createdAt()), p.body());
        }
    }

    public record Form(String title, String author, String body, String csrf, List<String> errors) {
        public static Form empty(String csrf, String author) {
            return new Form("", author, "", csrf, List.of());
        }

        public static Form of(PostInput input, String csrf, List<String> errors) {
            return new Form(input.title(), input.author(), input.body(), csrf, errors);
        }

        public boolean hasErrors() {
            return !errors.isEmpty();
        }

        public int maxTitle() {
            return PostInput.MAX_TITLE;
        }

        public int maxAuthor() {
            return PostInput.MAX_AUTHOR;
        }

        public int maxBody() {
            return PostInput.MAX_BODY;
        }
    }

    public record ErrorPage(int status, String heading, String message) {}

    /**
     * The sign-up and sign-in forms: one template, {@code account.mustache}.
     *
     * @param newAccount sign-up (the form shows the rules for a new name and password) rather than sign-in
     */
    public record AccountForm(boolean newAccount, String name, String csrf, List<String> errors) {
        public static AccountForm signUp(String name, String csrf, List<String> errors) {
            return new AccountForm(true, name, csrf, errors);
        }

        public static AccountForm signIn(String name, String csrf, List<String> errors) {
            return new AccountForm(false, name, csrf, errors);
        }

        public String heading() {
            return newAccount ? "Sign up" : "Sign in";
        }

        public String action() {
            return newAccount ? AccountServlet.SIGN_UP : AccountServlet.SIGN_IN;
        }

        public boolean hasErrors() {
            return !errors.isEmpty();
        }

        public int minName() {
            return Credentials.MIN_NAME;
        }

        public int maxName() {
            return Credentials.MAX_NAME;
        }

        public int minPassword() {
            return Credentials.MIN_PASSWORD;
        }

        public int maxPassword() {
            return Credentials.MAX_PASSWORD;
        }
    }

    /** The sign-out page: a button, because signing out changes state and so is a POST with a CSRF token. */
    public record SignOut(String csrf) {}

    /** The first {@value #EXCERPT} characters of {@code body}, cut at a word and marked with an ellipsis. */
    static String excerpt(String body) {
        String flat = flatten(body, EXCERPT + 1);
        if (flat.codePointCount(0, flat.length()) <= EXCERPT) {
            return flat;
        }
        String cut = flat.substring(0, flat.offsetByCodePoints(0, EXCERPT));
        int space = cut.lastIndexOf(' ');
        if (space > EXCERPT / 2) {
            cut = cut.substring(0, space);
        }
        return cut.stripTrailing() + "…";
    }

    /**
     * {@code text} with leading and trailing white space removed and each run of white space inside
     * made one space, cut after {@code limit} code points: the home page flattens only the start of
     * each post, not the whole body (a regex over every body was most of the page's CPU time).
     * Stretches that need no change (words and single spaces) are copied in bulk.
     */
    static String flatten(String text, int limit) {
        int n = text.length();
        int i = 0;
        while (i < n && isSpace(text.charAt(i))) {
            i++;
        }
        StringBuilder out = null;
        int copyFrom = i;
        int count = 0;
        while (i < n && count < limit) {
            char c = text.charAt(i);
            if (c == ' ' && i + 1 < n && !isSpace(text.charAt(i + 1))) {
                i++;
                count++;
            } else if (isSpace(c)) {
                int next = i;
                while (next < n && isSpace(text.charAt(next))) {
                    next++;
                }
                if (out == null) {
                    out = new StringBuilder(limit + 16);
                }
                out.append(text, copyFrom, i);
                if (next == n) {
                    copyFrom = i;
                    break;
                }
                out.append(' ');
                count++;
                copyFrom = i = next;
            } else {
                i++;
                if (Character.isHighSurrogate(c) && i < n && Character.isLowSurrogate(text.charAt(i))) {
                    i++;
                }
                count++;
            }
        }
        return out == null ? text.substring(copyFrom, i) : out.append(text, copyFrom, i).toString();
    }

    /** White space as the regex {@code \s} sees it, plus the Unicode spaces {@link Character#isWhitespace} knows. */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B
                || (c > 0x7F && Character.isWhitespace(c));
    }

    private static String iso(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t);
    }
}
