extension Array where Element == UInt8 {
    /// `withUnsafeBytes` keeping the closure's typed error; the standard library's version
    /// is `rethrows`, which widens it to `any Error`.
    func withUnsafeBytesThrowing<R>(
        _ body: (UnsafeRawBufferPointer) throws(ALTSRecordError) -> R
    ) throws(ALTSRecordError) -> R {
        let result: Result<R, ALTSRecordError> = withUnsafeBytes { raw in
            Result { () throws(ALTSRecordError) -> R in try body(raw) }
        }
        return try result.get()
    }
}
