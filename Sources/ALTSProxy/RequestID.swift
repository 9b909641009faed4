import COpenSSL

/// x-request-id values: random (version 4) UUIDs in lower-case text, as Envoy makes them,
/// formatted without Foundation's per-call formatter (this runs once per request).
enum RequestID {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func make() -> String {
        var (high, low) = randomWords()
        // Version 4 in the 13th hex digit; the RFC 4122 variant (10xx) in the 17th.
        high = high & ~0xF000 | 0x4000
        low = low & ~(0xC << 60) | (0x8 << 60)
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

    /// OpenSSL's per-thread DRBG: no system call per id, where `SystemRandomNumberGenerator`
    /// makes one `getrandom` per word (two per request, measured under load).
    private static func randomWords() -> (UInt64, UInt64) {
        var words: (UInt64, UInt64) = (0, 0)
        let ok = withUnsafeMutableBytes(of: &words) { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32($0.count)) }
        if ok == 1 { return words }
        // RAND_bytes fails only if its seed source does; the standard library's generator
        // then decides (it traps rather than hand out predictable values).
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }
}
