package dev.webstack.site;

import java.util.ArrayList;
import java.util.List;

/**
 * A name and password as a visitor typed them into the sign-up or sign-in form. {@link #of}
 * normalizes (missing becomes empty; the name is stripped, the password kept as typed);
 * {@link #validate()} checks a new account against the limits below. Sign-in does not validate:
 * whatever does not match an account is simply a wrong name or password.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>field</th><th>rule</th></tr>
 *   <tr><td>name</td><td>{@value #MIN_NAME} to {@value #MAX_NAME} of {@code A-Z a-z 0-9 . _ -}, unique whatever the case</td></tr>
 *   <tr><td>password</td><td>{@value #MIN_PASSWORD} to {@value #MAX_PASSWORD} characters (NIST SP 800-63B:
 *       at least 8, no composition rules; the maximum only bounds the work per request)</td></tr>
 * </table>
 */
public record Credentials(String name, String password) {
    public static final int MIN_NAME = 3;
    public static final int MAX_NAME = 32;
    public static final int MIN_PASSWORD = 8;
    public static final int MAX_PASSWORD = 200;

    /** Normalizes raw form values; either may be null (a field the client did not send). */
    public static Credentials of(String name, String password) {
        return new Credentials(name == null ? "" : name.strip(), password == null ? "" : password);
    }

    /** Why these cannot make a new account, in field order; empty when they can. */
    public List<String> validate() {
        List<String> errors = new ArrayList<>();
        if (name.length() < MIN_NAME || name.length() > MAX_NAME) {
            errors.add("name: " + name.length() + " characters (expected: " + MIN_NAME + " to " + MAX_NAME + ")");
        } else if (!name.matches("[A-Za-z0-9._-]+")) {
            errors.add("name: only letters A-Z, digits, '.', '_' and '-' (no spaces)");
        }
        int length = password.codePointCount(0, password.length());
        if (length < MIN_PASSWORD || length > MAX_PASSWORD) {
            errors.add("password: " + length + " characters (expected: " + MIN_PASSWORD + " to " + MAX_PASSWORD + ")");
        }
        return errors;
    }

    /** Never prints the password (logs, exception messages). */
    @Override
    public String toString() {
        return "Credentials[name=" + name + "]";
    }
}
