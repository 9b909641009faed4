import ALTSRecord
import NIOCore

/// Lets the record protector seal and open straight into a ByteBuffer's spare capacity.
extension ByteBuffer: ALTSByteSink {
    public mutating func appendUnsafeBytes(
        capacity: Int, _ body: (UnsafeMutableRawBufferPointer) throws(ALTSRecordError) -> Int
    ) throws(ALTSRecordError) {
        var failure: ALTSRecordError?
        writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
            do throws(ALTSRecordError) {
                return try body(UnsafeMutableRawBufferPointer(rebasing: raw[0..<capacity]))
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }
}

extension ByteBuffer {
    /// `withUnsafeReadableBytes` keeping the record layer's typed error.
    func withReadableBytesThrowing<R>(
        _ body: (UnsafeRawBufferPointer) throws(ALTSRecordError) -> R
    ) throws(ALTSRecordError) -> R {
        let result: Result<R, ALTSRecordError> = withUnsafeReadableBytes { raw in
            Result { () throws(ALTSRecordError) -> R in try body(raw) }
        }
        return try result.get()
    }
}
