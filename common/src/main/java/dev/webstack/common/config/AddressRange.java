package dev.webstack.common.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A block of IP addresses as written in nginx's {@code allow}/{@code deny}: an address
 * ({@code 192.0.2.7}, {@code ::1}), a network in CIDR notation ({@code 10.0.0.0/8},
 * {@code 2001:db8::/32}; bits past the prefix are ignored, as nginx does), or {@code all}.
 *
 * @param network      the network's first address; for {@code all}, null
 * @param prefixLength how many leading bits an address must share with {@code network}
 */
public record AddressRange(InetAddress network, int prefixLength) {
    /** Every address, IPv4 and IPv6. */
    public static final AddressRange ALL = new AddressRange(null, 0);
    // Literals only: InetAddress.getByName must never look a name up in DNS here.
    private static final Pattern LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");

    /**
     * Reads {@code all}, an address or {@code address/prefix}.
     *
     * @throws IllegalArgumentException with what was expected, when {@code text} is none of these
     */
    public static AddressRange parse(String text) {
        String s = text.trim();
        if (s.equals("all")) {
            return ALL;
        }
        int slash = s.indexOf('/');
        InetAddress ip = literal(slash < 0 ? s : s.substring(0, slash));
        if (ip == null) {
            throw new IllegalArgumentException("'" + s + "' (expected: all, an IP address, or a network such as 10.0.0.0/8)");
        }
        int bits = ip.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("'" + s + "': the prefix length must be 0-" + bits);
            }
        }
        return new AddressRange(mask(ip, prefix), prefix);
    }

    /** The IPv4 or IPv6 address {@code text} is written as; null when it is not an address (a name is never looked up in DNS). */
    public static InetAddress literal(String text) {
        if (!LITERAL.matcher(text).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether {@code address} is in one of {@code ranges}. */
    public static boolean anyContains(List<AddressRange> ranges, InetAddress address) {
        for (AddressRange r : ranges) {
            if (r.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The blocks of a config list (or of a single value), each bad one reported with its line. */
    static List<AddressRange> listFrom(ConfigNode parent, String key) {
        Optional<ConfigNode> child = parent.child(key);
        List<ConfigNode> items = child.isPresent() && !child.get().isList() ? List.of(child.get()) : parent.list(key);
        return items.stream().map(n -> {
            try {
                return parse(n.text());
            } catch (IllegalArgumentException e) {
                throw n.error(e.getMessage());
            }
        }).toList();
    }

    /** Whether {@code address} is in this block (an IPv4-mapped IPv6 address counts as its IPv4 address). */
    public boolean contains(InetAddress address) {
        if (network == null) {
            return true;
        }
        byte[] a = unmapped(address.getAddress());
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != n[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        return rest == 0 || ((a[full] ^ n[full]) & (0xff << (8 - rest))) == 0;
    }

    @Override
    public String toString() {
        if (network == null) {
            return "all";
        }
        int bits = network instanceof Inet4Address ? 32 : 128;
        return network.getHostAddress() + (prefixLength == bits ? "" : "/" + prefixLength);
    }

    private static byte[] unmapped(byte[] a) {
        if (a.length != 16) {
            return a;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return a;
            }
        }
        if (a[10] != (byte) 0xff || a[11] != (byte) 0xff) {
            return a;
        }
        return new byte[] {a[12], a[13], a[14], a[15]};
    }

    private static InetAddress mask(InetAddress ip, int prefix) {
        byte[] a = ip.getAddress();
        for (int i = 0; i < a.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            a[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return ip instanceof Inet6Address ? InetAddress.getByAddress(a) : Inet4Address.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: a 4- or 16-byte address
        }
    }
}
