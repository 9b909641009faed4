/// Seals and opens single records (no framing) for one end of a connection, keeping
/// separate cipher state per direction. One implementation per record protocol, in the shape
/// of swift-nio-ssh's `NIOSSHTransportProtection`.
protocol ALTSRecordCrypter: AnyObject {
    /// Writes ciphertext then the 16-byte tag of `plaintext`, sealed as record `counter`.
    func seal(
        counter: ALTSCounter, aad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer) throws(ALTSRecordError)

    /// Authenticates and decrypts record `counter`; writes `ciphertextAndTag.count - 16` bytes
    /// (`output` may be nil when that is zero).
    func open(
        counter: ALTSCounter, aad: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer?) throws(ALTSRecordError)
}

extension ALTSRecordCrypter {
    static var noAAD: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }
}

/// Makes the crypter for a negotiated protocol from the handshake's key data, of which the
/// protocol uses only the first `keyLength` bytes.
func makeRecordCrypter(
    _ recordProtocol: ALTSRecordProtocol, keyData: some Collection<UInt8>
) throws(ALTSRecordError) -> any ALTSRecordCrypter {
    guard keyData.count >= recordProtocol.keyLength else {
        throw ALTSRecordError(
            .keyTooShort(recordProtocol: recordProtocol.rawValue, required: recordProtocol.keyLength, actual: keyData.count))
    }
    let key = SecretBytes(keyData.prefix(recordProtocol.keyLength))
    switch recordProtocol {
    case .aes128GCM: return try AES128GCMCrypter(key: key)
    case .aes128GCMRekey: return try AES128GCMRekeyCrypter(key: key)
    }
}

/// Calls `body` with the 12 wire-order bytes of (low XOR maskLow, high XOR maskHigh).
@inline(__always)
func withNonce<R>(
    _ counter: ALTSCounter, maskLow: UInt64 = 0, maskHigh: UInt32 = 0,
    _ body: (UnsafeRawPointer) throws(ALTSRecordError) -> R
) throws(ALTSRecordError) -> R {
    var nonce: (UInt64, UInt32) = ((counter.low ^ maskLow).littleEndian, (counter.high ^ maskHigh).littleEndian)
    return try withUnsafeBytes(of: &nonce) { (raw: UnsafeRawBufferPointer) throws(ALTSRecordError) -> R in
        try body(raw.baseAddress!)
    }
}
