/// Reads a fuzzer's input as a few control bytes followed by a payload, and splits the
/// payload into the pieces a socket might deliver, so every target also exercises
/// reassembly. Running out of input is never an error: missing bytes read as zero.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    public init(_ data: UnsafeRawPointer, _ count: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: count)
    }

    public var remainingCount: Int { bytes.count - offset }

    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func uint16() -> UInt16 {
        UInt16(byte()) | UInt16(byte()) << 8
    }

    /// Up to `count` bytes.
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + max(0, count))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    public mutating func rest() -> [UInt8] { take(remainingCount) }
}

extension Array where Element == UInt8 {
    /// Splits into pieces of `pieceSize` bytes (the whole array at once when it is 0): how
    /// the payload reaches a decoder that must cope with any split.
    public func pieces(of pieceSize: Int) -> [ArraySlice<UInt8>] {
        guard pieceSize > 0, !isEmpty else { return [self[...]] }
        return stride(from: 0, to: count, by: pieceSize).map { self[$0..<Swift.min(count, $0 + pieceSize)] }
    }
}
