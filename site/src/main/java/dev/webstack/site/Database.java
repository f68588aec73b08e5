package dev.webstack.site;

import javax.sql.DataSource;

/**
 * The site's two ways to the database, both provided by the app server through JNDI:
 * {@code primary} ({@code jdbc/site}) takes every write and the reads that must see them;
 * {@code reads} ({@code jdbc/site-read}) serves the other reads: the replica while it is
 * replicating and close enough behind, else the primary (the app server decides, see its
 * {@code ReadRouting}). Without a replica both are the primary.
 */
public record Database(DataSource primary, DataSource reads) {

    /** Where a read goes: the primary right after the visitor's own write, else wherever reads go. */
    public enum ReadFrom { PRIMARY, ANY }

    public DataSource forReading(ReadFrom from) {
        return from == ReadFrom.PRIMARY ? primary : reads;
    }
}
