package dev.webstack.site;

import java.util.ArrayList;
import java.util.List;

/**
 * A post as a visitor or an API client submitted it, before it is stored. {@link #of} normalizes
 * the raw values (missing becomes empty; title and author are stripped; line breaks become
 * {@code \n}); {@link #validate()} checks the limits below, which match the columns of
 * {@code posts} (lengths in Unicode code points, as MariaDB counts {@code utf8mb4} characters).
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>field</th><th>length</th></tr>
 *   <tr><td>title</td><td>1 to {@value #MAX_TITLE}</td></tr>
 *   <tr><td>author</td><td>1 to {@value #MAX_AUTHOR}</td></tr>
 *   <tr><td>body</td><td>1 to {@value #MAX_BODY}</td></tr>
 * </table>
 */
public record PostInput(String title, String author, String body) {
    public static final int MAX_TITLE = 200;
    public static final int MAX_AUTHOR = 100;
    public static final int MAX_BODY = 20_000;

    /** Normalizes raw values; any of them may be null (a field the client did not send). */
    public static PostInput of(String title, String author, String body) {
        return new PostInput(
                title == null ? "" : title.strip(),
                author == null ? "" : author.strip(),
                body == null ? "" : body.replace("\r\n", "\n").replace('\r', '\n').strip());
    }

    /** The reasons this input cannot be stored, in field order; empty when it is valid. */
    public List<String> validate() {
        List<String> errors = new ArrayList<>();
        check("title", title, MAX_TITLE, errors);
        check("author", author, MAX_AUTHOR, errors);
        check("body", body, MAX_BODY, errors);
        return errors;
    }

    private static void check(String field, String value, int max, List<String> errors) {
        int length = value.codePointCount(0, value.length());
        if (length == 0) {
            errors.add(field + ": missing (expected: 1 to " + max + " characters)");
        } else if (length > max) {
            errors.add(field + ": " + length + " characters (expected: at most " + max + ")");
        }
    }
}
