/// Where sealed or opened bytes go. The protector asks for room once per call and writes
/// directly into it, so no intermediate copy or per-frame allocation happens. SwiftNIO's
/// `ByteBuffer` conforms in the ALTSNIO module; `[UInt8]` and `ALTSPreallocatedBuffer` here.
public protocol ALTSByteSink {
    /// Offers at least `capacity` writable bytes to `body`, then keeps as many as `body`
    /// returns. If `body` throws, nothing is kept.
    mutating func appendUnsafeBytes(
        capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(ALTSRecordError) -> Int
    ) throws(ALTSRecordError)
}

extension Array: ALTSByteSink where Element == UInt8 {
    public mutating func appendUnsafeBytes(
        capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(ALTSRecordError) -> Int
    ) throws(ALTSRecordError) {
        let start = count
        append(contentsOf: repeatElement(0, count: capacity))
        var kept = 0
        var failure: ALTSRecordError?
        withUnsafeMutableBytes { raw in
            do throws(ALTSRecordError) {
                kept = try body(UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
            } catch {
                failure = error
            }
        }
        removeLast(capacity - (failure == nil ? kept : 0))
        if let failure { throw failure }
    }
}

/// A fixed region of memory the caller owns, filled from the start and reusable with
/// `reset()`: the allocation-free output for hot loops and benchmarks.
public struct ALTSPreallocatedBuffer: ALTSByteSink {
    public let storage: UnsafeMutableRawBufferPointer
    public private(set) var count = 0

    public init(storage: UnsafeMutableRawBufferPointer) {
        self.storage = storage
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }

    public mutating func reset() { count = 0 }

    public mutating func appendUnsafeBytes(
        capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(ALTSRecordError) -> Int
    ) throws(ALTSRecordError) {
        precondition(storage.count - count >= capacity, "ALTSPreallocatedBuffer is too small")
        count += try body(UnsafeMutableRawBufferPointer(rebasing: storage[count..<(count + capacity)]))
    }
}
