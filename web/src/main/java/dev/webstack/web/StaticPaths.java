package dev.webstack.web;

import java.util.List;

/** The request paths served from the public folder: an entry ending in '/' is a prefix, any other an exact path. */
record StaticPaths(List<String> entries) {

    StaticPaths {
        entries = List.copyOf(entries);
    }

    /** Whether the (decoded) request path is a static one. */
    boolean matches(String path) {
        for (String e : entries) {
            if (e.endsWith("/") ? path.startsWith(e) : path.equals(e)) {
                return true;
            }
        }
        return false;
    }
}
