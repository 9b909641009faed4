/// Opens a protected byte stream that arrives in pieces of any size, buffering a partial
/// frame between calls. For callers without their own buffering (SwiftNIO users get that from
/// `ALTSRecordHandler`).
public struct ALTSRecordReader {
    public let protector: ALTSRecordProtector
    private var pending: [UInt8] = []

    public init(protector: ALTSRecordProtector) {
        self.protector = protector
    }

    /// Bytes held back because their frame is not complete yet.
    public var bufferedByteCount: Int { pending.count }

    /// Feeds the next piece of the stream; returns the plaintext of every frame it completes.
    public mutating func read(_ bytes: some Collection<UInt8>) throws(ALTSRecordError) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var plaintext: [UInt8] = []
        let consumed = try pending.withUnsafeBytesThrowing { (raw) throws(ALTSRecordError) -> Int in
            try protector.unprotect(raw, into: &plaintext)
        }
        pending.removeFirst(consumed)
        return plaintext
    }

    /// The stream ended: fails if it ended inside a frame.
    public func finish() throws(ALTSRecordError) {
        try protector.checkEndOfStream(bufferedBytes: pending.count)
    }
}
