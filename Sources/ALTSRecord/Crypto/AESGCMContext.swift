import COpenSSL

/// One OpenSSL EVP_CIPHER_CTX for AES-GCM in one direction, reused for every record. The key
/// schedule is set only when the key changes; each record sets just the nonce. OpenSSL
/// checks the tag in constant time (CRYPTO_memcmp) inside EVP_DecryptFinal_ex.
final class AESGCMContext {
    static let tagLength = 16
    static let nonceLength = 12

    private let context: OpaquePointer
    private let encrypting: Bool

    /// `keyLength` 16 selects AES-128-GCM (all that ALTS uses); 32 selects AES-256-GCM, which
    /// only the published C-core test vectors need.
    init(encrypting: Bool, keyLength: Int) throws(ALTSRecordError) {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw ALTSRecordError(.cryptoFailure("EVP_CIPHER_CTX_new"))
        }
        self.context = context
        self.encrypting = encrypting
        let cipher = keyLength == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm()
        guard EVP_CipherInit_ex(context, cipher, nil, nil, nil, encrypting ? 1 : 0) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1
        else {
            throw ALTSRecordError(.cryptoFailure("AES-GCM context setup"))
        }
    }

    deinit {
        // Frees and wipes the expanded key schedule.
        EVP_CIPHER_CTX_free(context)
    }

    func setKey(_ key: UnsafeRawPointer) throws(ALTSRecordError) {
        guard EVP_CipherInit_ex(
            context, nil, nil, key.assumingMemoryBound(to: UInt8.self), nil, encrypting ? 1 : 0) == 1
        else {
            throw ALTSRecordError(.cryptoFailure("AES-GCM set key"))
        }
    }

    /// Writes `plaintext.count` bytes of ciphertext then the 16-byte tag to `output`.
    /// `output` may equal `plaintext.baseAddress` (in place).
    @inline(__always)
    func seal(
        nonce: UnsafeRawPointer,
        aad: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawPointer
    ) throws(ALTSRecordError) {
        var produced: Int32 = 0
        let out = output.assumingMemoryBound(to: UInt8.self)
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce.assumingMemoryBound(to: UInt8.self), 1) == 1
        else { throw ALTSRecordError(.cryptoFailure("AES-GCM set nonce")) }
        if aad.count > 0 {
            guard EVP_CipherUpdate(context, nil, &produced, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1
            else { throw ALTSRecordError(.cryptoFailure("AES-GCM aad")) }
        }
        var written = 0
        if plaintext.count > 0 {
            guard EVP_CipherUpdate(
                context, out, &produced,
                plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(plaintext.count)) == 1
            else { throw ALTSRecordError(.cryptoFailure("AES-GCM encrypt")) }
            written = Int(produced)
        }
        guard EVP_CipherFinal_ex(context, out + written, &produced) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), output + plaintext.count) == 1
        else { throw ALTSRecordError(.cryptoFailure("AES-GCM finish")) }
    }

    /// Decrypts `ciphertextAndTag` (ciphertext then 16-byte tag) into `output`. On a tag
    /// mismatch the unauthenticated output is wiped and `authenticationFailed` is thrown.
    @inline(__always)
    func open(
        nonce: UnsafeRawPointer,
        aad: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        ciphertextAndTag: UnsafeRawBufferPointer,
        output: UnsafeMutableRawPointer?
    ) throws(ALTSRecordError) {
        let ciphertextLength = ciphertextAndTag.count - Self.tagLength
        guard ciphertextLength >= 0 else { throw ALTSRecordError(.authenticationFailed) }
        let input = ciphertextAndTag.baseAddress!
        var produced: Int32 = 0
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce.assumingMemoryBound(to: UInt8.self), 0) == 1
        else { throw ALTSRecordError(.cryptoFailure("AES-GCM set nonce")) }
        // OpenSSL wants a mutable tag pointer although it only reads it.
        var tag: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &tag) { $0.copyMemory(from: UnsafeRawBufferPointer(start: input + ciphertextLength, count: Self.tagLength)) }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1
        else { throw ALTSRecordError(.cryptoFailure("AES-GCM set tag")) }
        if aad.count > 0 {
            guard EVP_CipherUpdate(context, nil, &produced, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1
            else { throw ALTSRecordError(.cryptoFailure("AES-GCM aad")) }
        }
        if ciphertextLength > 0 {
            guard let output, EVP_CipherUpdate(
                context, output.assumingMemoryBound(to: UInt8.self), &produced,
                input.assumingMemoryBound(to: UInt8.self), Int32(ciphertextLength)) == 1
            else { throw ALTSRecordError(.cryptoFailure("AES-GCM decrypt")) }
        }
        // GCM's final step writes no bytes; it only checks the tag.
        var finalOutput: UInt64 = 0
        let verified = withUnsafeMutableBytes(of: &finalOutput) {
            EVP_CipherFinal_ex(context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &produced) == 1
        }
        guard verified else {
            if let output, ciphertextLength > 0 { OPENSSL_cleanse(output, ciphertextLength) }
            throw ALTSRecordError(.authenticationFailed)
        }
    }
}
