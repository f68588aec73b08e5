package dev.webstack.site;

import java.time.Instant;

/** A stored post, as {@link PostRepository} reads it. */
public record Post(long id, String title, String body, String author, Instant createdAt) {}
