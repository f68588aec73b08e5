package dev.webstack.site;

/** A signed-up account, as the pages show it. */
public record User(long id, String name) {}
