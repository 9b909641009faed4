/// `ALTSRP_GCM_AES128`: one 16-byte key for both directions, the counter used as the nonce.
final class AES128GCMCrypter: ALTSRecordCrypter {
    private let sealContext: AESGCMContext
    private let openContext: AESGCMContext

    init(key: SecretBytes) throws(ALTSRecordError) {
        precondition(key.count == 16 || key.count == 32)
        sealContext = try AESGCMContext(encrypting: true, keyLength: key.count)
        openContext = try AESGCMContext(encrypting: false, keyLength: key.count)
        try sealContext.setKey(key.pointer)
        try openContext.setKey(key.pointer)
    }

    func seal(
        counter: ALTSCounter, aad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer
    ) throws(ALTSRecordError) {
        try withNonce(counter) { (nonce) throws(ALTSRecordError) in
            try sealContext.seal(nonce: nonce, aad: aad, plaintext: plaintext, output: output)
        }
    }

    func open(
        counter: ALTSCounter, aad: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer?
    ) throws(ALTSRecordError) {
        try withNonce(counter) { (nonce) throws(ALTSRecordError) in
            try openContext.open(nonce: nonce, aad: aad, ciphertextAndTag: ciphertextAndTag, output: output)
        }
    }
}
