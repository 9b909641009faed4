/// x-request-id values: random (version 4) UUIDs in lower-case text, as Envoy makes them,
/// formatted without Foundation's per-call formatter (this runs once per request).
enum RequestID {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        // Version 4 in the 13th hex digit; the RFC 4122 variant (10xx) in the 17th.
        let high = (generator.next() as UInt64) & ~0xF000 | 0x4000
        let low = (generator.next() as UInt64) & ~(0xC << 60) | (0x8 << 60)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    buffer[index] = UInt8(ascii: "-")
                    index += 1
                }
                let word = digit < 16 ? high : low
                buffer[index] = hexDigits[Int((word >> UInt64(60 - (digit % 16) * 4)) & 0xF)]
                index += 1
            }
            return index
        }
    }
}
