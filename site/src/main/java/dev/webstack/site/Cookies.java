package dev.webstack.site;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * The site's cookies, all alike: {@code HttpOnly} (no script reads them), {@code SameSite=Lax}
 * (not sent with cross-site POSTs), {@code Path=/}; {@code Secure} when the request came over HTTPS
 * (the web tier says so in {@code X-Forwarded-Proto}, which the app server reads into
 * {@code isSecure()}), so that a cookie set over HTTPS never travels over plain HTTP.
 */
final class Cookies {
    private Cookies() {}

    /** The first cookie called {@code name}; empty when absent or empty. */
    static Optional<String> get(HttpServletRequest request, String name) {
        Cookie[] cookies = request.getCookies();
        return cookies == null ? Optional.empty() : Arrays.stream(cookies)
                .filter(c -> c.getName().equals(name))
                .map(Cookie::getValue)
                .filter(v -> v != null && !v.isEmpty())
                .findFirst();
    }

    /** Sets a cookie that the browser keeps for {@code maxAge} (zero: deletes it). */
    static void set(HttpServletRequest request, HttpServletResponse response, String name, String value, Duration maxAge) {
        Cookie cookie = new Cookie(name, value);
        cookie.setPath("/");
        cookie.setHttpOnly(true);
        cookie.setSecure(request.isSecure());
        cookie.setAttribute("SameSite", "Lax");
        cookie.setMaxAge((int) Math.min(Integer.MAX_VALUE, maxAge.toSeconds()));
        response.addCookie(cookie);
    }

    /** Tells the browser to forget the cookie. */
    static void clear(HttpServletRequest request, HttpServletResponse response, String name) {
        set(request, response, name, "", Duration.ZERO);
    }
}
