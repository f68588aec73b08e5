package dev.webstack.dns;

import dev.webstack.common.config.ConfigException;
import dev.webstack.common.config.DnsConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;

/**
 * Reads the RFC 1035 master files of a {@link DnsConfig} with dnsjava's {@link Master}, and makes
 * each a {@link ZoneData}. A file that cannot be used throws a {@link ConfigException} saying
 * {@code path:line: reason}, the same shape as an error in webstack.yml, before anything listens.
 *
 * <p>dnsjava's tokenizer names only the file's base name ({@code foobar.com.zone:12: ...}); the
 * message is rewritten with the path as configured so that the reader can open it.
 */
final class ZoneLoader {
    private static final Pattern LOCATED = Pattern.compile("(?s)(.*):(\\d+): (.*)");
    private static final String INCLUDE = "$INCLUDE";
    /** What dnsjava's tokenizer calls a file it reads from a stream. */
    private static final String UNNAMED = "<none>";

    private ZoneLoader() {}

    /** Loads every zone of {@code config}, in order; the first unusable file throws. */
    static List<ZoneData> loadAll(DnsConfig config) {
        List<ZoneData> zones = new ArrayList<>();
        for (DnsConfig.Zone zone : config.zones()) {
            zones.add(load(zone));
        }
        return List.copyOf(zones);
    }

    static ZoneData load(DnsConfig.Zone zone) {
        return load(zone, null);
    }

    /**
     * Loads {@code zone} from {@code read}, the bytes of its file as {@link #read} gave them, so that
     * the file is read once for its digest and its records. A file with an {@code $INCLUDE} (no
     * digest) is read by dnsjava from its path, which the included files' paths are relative to.
     */
    static ZoneData load(DnsConfig.Zone zone, Source read) {
        Path file = zone.file();
        Name origin;
        try {
            origin = Name.fromString(zone.origin(), Name.root);
        } catch (TextParseException e) {
            throw new ConfigException(file, 0, null, "origin '" + zone.origin() + "': " + e.getMessage());
        }
        List<Record> inZone = new ArrayList<>();
        List<Record> outside = new ArrayList<>();
        try (Master master = read != null && read.digest().isPresent()
                ? new Master(new ByteArrayInputStream(read.bytes()), origin)
                : new Master(file.toString(), origin)) {
            for (Record r = master.nextRecord(); r != null; r = master.nextRecord()) {
                (r.getName().subdomain(origin) ? inZone : outside).add(r);
            }
        } catch (TextParseException e) {
            throw located(file, e.getMessage());
        } catch (IOException e) {
            throw new ConfigException(file, 0, null, "cannot read: " + e.getMessage());
        } catch (RuntimeException e) {
            // dnsjava reports a few problems (a relative name, nested $GENERATE) as runtime exceptions.
            throw new ConfigException(file, 0, null, String.valueOf(e.getMessage()));
        }
        try {
            return ZoneData.of(file, origin, inZone, outside);
        } catch (RuntimeException e) {
            // The zone as a whole is unusable: no SOA, several SOAs, no NS at the apex.
            throw new ConfigException(file, 0, null, String.valueOf(e.getMessage()));
        }
    }

    /**
     * The bytes of a zone file, read once, and their digest: what identifies them (SHA-256), so
     * that a reload can tell a zone file it need not parse again (as NSD, which reads again only
     * the files whose time changed). No digest when that cannot be told: the file has an
     * {@code $INCLUDE}, whose file may change alone; and neither bytes nor digest when it cannot be
     * read ({@link #load} says why).
     */
    record Source(byte[] bytes, Optional<byte[]> digest) {}

    /** Reads {@code file} for {@link #load(DnsConfig.Zone, Source)} and its digest. */
    static Source read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return new Source(null, Optional.empty());
        }
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '$' && new String(bytes, i, Math.min(INCLUDE.length(), bytes.length - i), StandardCharsets.ISO_8859_1)
                    .equalsIgnoreCase(INCLUDE)) {
                return new Source(bytes, Optional.empty());
            }
        }
        try {
            return new Source(bytes, Optional.of(MessageDigest.getInstance("SHA-256").digest(bytes)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * Rewrites dnsjava's {@code base-name:line: reason} as {@code path:line: reason}; dnsjava names
     * a file parsed from its bytes {@code <none>}.
     */
    private static ConfigException located(Path file, String message) {
        Matcher m = LOCATED.matcher(message);
        Path name = file.getFileName();
        if (m.matches() && name != null && (m.group(1).equals(name.toString()) || m.group(1).equals(UNNAMED))) {
            return new ConfigException(file, Integer.parseInt(m.group(2)), null, m.group(3));
        }
        // An error in an $INCLUDEd file: keep dnsjava's location, which names that file.
        return new ConfigException(file, 0, null, message);
    }
}
