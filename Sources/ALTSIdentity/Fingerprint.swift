import Crypto

/// Certificate fingerprints in the form `openssl x509 -fingerprint -sha256` prints,
/// so operators can match them by eye.
enum Fingerprint {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func sha256(_ der: [UInt8]) -> String {
        format(SHA256.hash(data: der))
    }

    static func format(_ digest: SHA256Digest) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(SHA256Digest.byteCount * 3)
        for byte in digest {
            if !text.isEmpty { text.append(UInt8(ascii: ":")) }
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
