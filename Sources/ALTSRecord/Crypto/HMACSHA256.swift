import COpenSSL

enum HMACSHA256 {
    static let outputLength = 32

    /// HMAC-SHA256(key, message) written to `output` (32 bytes).
    static func authenticate(
        key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer
    ) throws(ALTSRecordError) {
        var length: UInt32 = 0
        guard HMAC(
            EVP_sha256(), key.baseAddress, Int32(key.count),
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
            output.assumingMemoryBound(to: UInt8.self), &length) != nil,
            length == UInt32(outputLength)
        else { throw ALTSRecordError(.cryptoFailure("HMAC-SHA256")) }
    }
}
