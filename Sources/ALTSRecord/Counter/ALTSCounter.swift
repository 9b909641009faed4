/// The 12-byte little-endian record counter of one direction (FACTS §2). Its value is the
/// GCM nonce input for the next record. Only the low `overflowLength` bytes ever change;
/// byte 11 carries the direction (0x80 for records the server sends), so the two directions
/// can never produce the same nonce under the same key.
public struct ALTSCounter: Hashable, Sendable {
    /// Bytes 0...7 as a little-endian integer.
    public private(set) var low: UInt64
    /// Bytes 8...11 as a little-endian integer; byte 11 is the direction marker.
    public let high: UInt32
    public let overflowLength: Int
    /// Set once the counter wrapped: the last value was used and no further record may be.
    public private(set) var isExhausted = false

    private var overflowMask: UInt64 {
        overflowLength >= 8 ? .max : (UInt64(1) << (8 * UInt64(overflowLength))) - 1
    }

    /// The counter a `role` seals its first record with.
    public static func outbound(role: ALTSRole, overflowLength: Int) -> ALTSCounter {
        ALTSCounter(low: 0, high: role == .server ? 0x8000_0000 : 0, overflowLength: overflowLength)
    }

    /// The counter a `role` expects on the first record it receives.
    public static func inbound(role: ALTSRole, overflowLength: Int) -> ALTSCounter {
        ALTSCounter(low: 0, high: role == .client ? 0x8000_0000 : 0, overflowLength: overflowLength)
    }

    public init(low: UInt64, high: UInt32, overflowLength: Int) {
        precondition((1...8).contains(overflowLength), "overflow length must be 1...8")
        self.low = low
        self.high = high
        self.overflowLength = overflowLength
    }

    /// Builds a counter from its 12 wire-order bytes.
    public init(bytes: some Collection<UInt8>, overflowLength: Int) {
        precondition(bytes.count == 12, "an ALTS counter is 12 bytes")
        var low: UInt64 = 0
        var high: UInt32 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                low |= UInt64(byte) << (8 * UInt64(index))
            } else {
                high |= UInt32(byte) << (8 * UInt32(index - 8))
            }
        }
        self.init(low: low, high: high, overflowLength: overflowLength)
    }

    /// The 12 bytes in wire order.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * UInt64($0))) }
            + (0..<4).map { UInt8(truncatingIfNeeded: high >> (8 * UInt32($0))) }
    }

    /// Bytes 2...7: the REKEY key-derivation input. Bytes 0–1 are left out so one derived
    /// key covers 2^16 records; bytes 8–11 are left out so both directions share keys.
    @inlinable
    public var kdfCounter: UInt64 { (low >> 16) & 0xFFFF_FFFF_FFFF }

    /// Advances to the next record. Carries only through the overflow bytes; a wrap marks the
    /// counter exhausted (grpc-go's convention: the all-0xff value is still usable once).
    public mutating func increment() {
        let mask = overflowMask
        let next = (low &+ 1) & mask
        if next == 0 {
            isExhausted = true
            return
        }
        low = (low & ~mask) | next
    }
}
