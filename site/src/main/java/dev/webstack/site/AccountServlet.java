package dev.webstack.site;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounts, mapped to {@value #SIGN_UP}, {@value #SIGN_IN} and {@value #SIGN_OUT}. Each GET shows
 * a form with a CSRF token ({@link Csrf}); each POST checks it first (403 page when it fails).
 * <ul>
 *   <li>{@code POST /signup}: validates ({@link Credentials}; 400 and the form again), hashes the
 *       password ({@link Passwords}), creates the account (409 and the form when the name is taken)
 *       and signs the visitor in;</li>
 *   <li>{@code POST /signin}: 401 and the form for a wrong name or password, the same answer (and
 *       the same time spent) whether or not the name exists; 429 with {@code Retry-After} while
 *       the account is locked after repeated failures ({@link UserRepository});</li>
 *   <li>{@code POST /signout}: ends the session.</li>
 * </ul>
 * Signing in makes a new session ({@link SessionStore}) each time, never reusing a token the
 * browser already had, and answers 303 to the home page, which then reads from the primary
 * ({@link ReadYourWrites}). 503 when too many passwords are being hashed at once.
 */
public final class AccountServlet extends HttpServlet {
    public static final String SIGN_UP = "/signup";
    public static final String SIGN_IN = "/signin";
    public static final String SIGN_OUT = "/signout";

    private static final Logger log = LoggerFactory.getLogger(AccountServlet.class);

    private final transient Site site;

    public AccountServlet(Site site) {
        this.site = site;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String token = site.formToken(request, response);
        switch (request.getServletPath()) {
            case SIGN_UP -> form(request, response, 200, Views.AccountForm.signUp("", token, List.of()));
            case SIGN_IN -> form(request, response, 200, Views.AccountForm.signIn("", token, List.of()));
            default -> {
                if (SessionFilter.user(request).isEmpty()) {
                    redirectHome(request, response);
                    return;
                }
                site.templates().write(response, 200, Templates.Page.SIGNOUT, site.layout(request, "Sign out"), new Views.SignOut(token));
            }
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Csrf.Verdict verdict = site.checkCsrf(request);
        if (verdict != Csrf.Verdict.VALID) {
            log.info("POST {} refused: CSRF token {}", request.getServletPath(), verdict);
            site.errorPage(request, response, 403,
                    "This form has expired or was not sent from this site. Open the form again and resubmit.");
            return;
        }
        String token = request.getParameter(Csrf.FIELD);
        try {
            switch (request.getServletPath()) {
                case SIGN_UP -> signUp(request, response, token);
                case SIGN_IN -> signIn(request, response, token);
                default -> signOut(request, response);
            }
        } catch (Passwords.Busy e) {
            response.setHeader("Retry-After", "1");
            site.errorPage(request, response, 503, "Too many sign-ins at once. Please try again in a moment.");
        } catch (SQLException e) {
            throw new IOException(request.getServletPath() + ": " + e.getMessage(), e);
        }
    }

    private void signUp(HttpServletRequest request, HttpServletResponse response, String token)
            throws IOException, SQLException, Passwords.Busy {
        Credentials input = Credentials.of(request.getParameter("name"), request.getParameter("password"));
        List<String> errors = input.validate();
        if (!errors.isEmpty()) {
            form(request, response, 400, Views.AccountForm.signUp(input.name(), token, errors));
            return;
        }
        Optional<User> created = site.users().create(input.name(), Passwords.hashBounded(input.password()));
        if (created.isEmpty()) {
            form(request, response, 409, Views.AccountForm.signUp(input.name(), token,
                    List.of("name: '" + input.name() + "' is taken; choose another")));
            return;
        }
        log.info("account {} created", created.get().name());
        startSession(request, response, created.get());
    }

    private void signIn(HttpServletRequest request, HttpServletResponse response, String token)
            throws IOException, SQLException, Passwords.Busy {
        Credentials input = Credentials.of(request.getParameter("name"), request.getParameter("password"));
        List<String> wrong = List.of("Wrong name or password.");
        if (input.name().isEmpty() || input.name().length() > Credentials.MAX_NAME
                || input.password().isEmpty() || input.password().length() > 2 * Credentials.MAX_PASSWORD) {
            form(request, response, 401, Views.AccountForm.signIn(input.name(), token, wrong));
            return;
        }
        Optional<UserRepository.Account> account = site.users().forSignIn(input.name());
        if (account.isEmpty()) {
            Passwords.verifyDecoy(input.password());
            form(request, response, 401, Views.AccountForm.signIn(input.name(), token, wrong));
            return;
        }
        UserRepository.Account a = account.get();
        if (a.lockedForSeconds() > 0) {
            response.setHeader("Retry-After", Long.toString(a.lockedForSeconds()));
            form(request, response, 429, Views.AccountForm.signIn(input.name(), token, List.of(
                    "Too many failed sign-ins for this account. Try again in " + a.lockedForSeconds() + " s.")));
            return;
        }
        if (!Passwords.verify(input.password(), a.passwordHash())) {
            site.users().failed(a.user().id());
            log.info("sign-in as {} refused: wrong password", a.user().name());
            form(request, response, 401, Views.AccountForm.signIn(input.name(), token, wrong));
            return;
        }
        site.users().succeeded(a.user().id());
        startSession(request, response, a.user());
    }

    private void signOut(HttpServletRequest request, HttpServletResponse response) throws IOException, SQLException {
        Optional<String> session = Cookies.get(request, SessionStore.COOKIE);
        if (session.isPresent()) {
            site.sessions().delete(session.get());
        }
        Cookies.clear(request, response, SessionStore.COOKIE);
        site.readYourWrites().wrote(request, response);
        redirectHome(request, response);
    }

    private void startSession(HttpServletRequest request, HttpServletResponse response, User user)
            throws IOException, SQLException {
        Optional<String> previous = Cookies.get(request, SessionStore.COOKIE);
        if (previous.isPresent()) {
            site.sessions().delete(previous.get());
        }
        Cookies.set(request, response, SessionStore.COOKIE, site.sessions().create(user), SessionStore.LIFETIME);
        site.readYourWrites().wrote(request, response);
        redirectHome(request, response);
    }

    private void form(HttpServletRequest request, HttpServletResponse response, int status, Views.AccountForm view) {
        response.setHeader("Cache-Control", "no-store");
        site.templates().write(response, status, Templates.Page.ACCOUNT, site.layout(request, view.heading()), view);
    }

    private static void redirectHome(HttpServletRequest request, HttpServletResponse response) {
        response.setStatus(HttpServletResponse.SC_SEE_OTHER);
        response.setHeader("Location", request.getContextPath() + "/");
    }
}
