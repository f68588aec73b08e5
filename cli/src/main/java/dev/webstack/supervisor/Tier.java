package dev.webstack.supervisor;

/** The tiers of the stack, in the order the supervisor starts them (and the reverse of how it stops them). */
public enum Tier {
    DB, APP, WEB, DNS;

    public String label() {
        return name().toLowerCase();
    }
}
