package dev.webstack.dns;

import org.xbill.DNS.RRset;

/**
 * The outcome of looking one name and type up in one zone (RFC 1034 section 4.3.2, step 3), as a
 * value: the answer logic switches over it instead of catching exceptions or testing nulls.
 */
sealed interface Lookup {

    /** The RRset asked for (for a wildcard match, already renamed to the query name). */
    record Answer(RRset rrset) implements Lookup {}

    /** The name is an alias: the CNAME RRset, to be followed by the caller. */
    record Alias(RRset cname) implements Lookup {}

    /** The name is at or below a zone cut: the NS RRset of the child zone. */
    record Referral(RRset ns) implements Lookup {}

    /** The name exists (possibly as an empty non-terminal) but has no data of that type. */
    record NoData() implements Lookup {}

    /** The name does not exist and no wildcard covers it. */
    record NxDomain() implements Lookup {}
}
