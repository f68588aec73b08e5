package dev.webstack.dns;

/** Hand-made malformed DNS packets. */
final class Garbage {
    private Garbage() {}

    /**
     * A query whose question name is a compression pointer to itself (offset 12), which a parser
     * that does not bound pointer chains follows forever.
     */
    static byte[] compressionLoop(int id) {
        return new byte[] {
            (byte) (id >> 8), (byte) id, 0x01, 0x00, // id, RD
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QDCOUNT 1
            (byte) 0xC0, 0x0C, // name: pointer to offset 12, i.e. to itself
            0x00, 0x01, 0x00, 0x01 // A IN
        };
    }
}
