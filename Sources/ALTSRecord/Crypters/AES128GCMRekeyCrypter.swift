import COpenSSL

/// `ALTSRP_GCM_AES128_REKEY` (FACTS §3.2). The 44-byte key is a 32-byte KDF key and a 12-byte
/// nonce mask. Each record's AES key is HMAC-SHA256(kdfKey, counter[2:8] ‖ 0x01)[0:16],
/// re-derived only when counter[2:8] changes (every 2^16 records); the nonce is the counter
/// XOR the mask.
final class AES128GCMRekeyCrypter: ALTSRecordCrypter {
    /// One direction's cipher context and the KDF counter its current key was derived for.
    private final class Direction {
        let context: AESGCMContext
        var keyedFor: UInt64?

        init(encrypting: Bool) throws(ALTSRecordError) {
            context = try AESGCMContext(encrypting: encrypting, keyLength: 16)
        }
    }

    private let kdfKey: SecretBytes
    private let maskLow: UInt64
    private let maskHigh: UInt32
    private let sealing: Direction
    private let opening: Direction

    init(key: SecretBytes) throws(ALTSRecordError) {
        precondition(key.count == 44)
        kdfKey = key.withUnsafeBytes { SecretBytes($0[0..<32]) }
        (maskLow, maskHigh) = key.withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: 32, as: UInt64.self).littleEndian,
             raw.loadUnaligned(fromByteOffset: 40, as: UInt32.self).littleEndian)
        }
        sealing = try Direction(encrypting: true)
        opening = try Direction(encrypting: false)
    }

    func seal(
        counter: ALTSCounter, aad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer
    ) throws(ALTSRecordError) {
        try rekeyIfNeeded(sealing, for: counter)
        try withNonce(counter, maskLow: maskLow, maskHigh: maskHigh) { (nonce) throws(ALTSRecordError) in
            try sealing.context.seal(nonce: nonce, aad: aad, plaintext: plaintext, output: output)
        }
    }

    func open(
        counter: ALTSCounter, aad: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer?
    ) throws(ALTSRecordError) {
        try rekeyIfNeeded(opening, for: counter)
        try withNonce(counter, maskLow: maskLow, maskHigh: maskHigh) { (nonce) throws(ALTSRecordError) in
            try opening.context.open(nonce: nonce, aad: aad, ciphertextAndTag: ciphertextAndTag, output: output)
        }
    }

    @inline(__always)
    private func rekeyIfNeeded(_ direction: Direction, for counter: ALTSCounter) throws(ALTSRecordError) {
        let kdfCounter = counter.kdfCounter
        if direction.keyedFor == kdfCounter { return }
        try Self.deriveKey(kdfKey: kdfKey, kdfCounter: kdfCounter) { (key) throws(ALTSRecordError) in
            try direction.context.setKey(key)
        }
        direction.keyedFor = kdfCounter
    }

    /// Derives the record key for `kdfCounter` into a stack buffer that is wiped afterwards.
    static func deriveKey(
        kdfKey: SecretBytes, kdfCounter: UInt64, _ use: (UnsafeRawPointer) throws(ALTSRecordError) -> Void
    ) throws(ALTSRecordError) {
        // counter[2:8] in wire order is the little-endian encoding of kdfCounter; then 0x01.
        var message: (UInt64, UInt8) = ((kdfCounter | (UInt64(1) << 48)).littleEndian, 0)
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        defer { withUnsafeMutableBytes(of: &digest) { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        try withUnsafeBytes(of: &message) { (msg) throws(ALTSRecordError) in
            try withUnsafeMutableBytes(of: &digest) { (out) throws(ALTSRecordError) in
                try kdfKey.withUnsafeBytes { (key) throws(ALTSRecordError) in
                    try HMACSHA256.authenticate(
                        key: key, message: UnsafeRawBufferPointer(rebasing: msg[0..<7]), output: out.baseAddress!)
                }
                try use(UnsafeRawPointer(out.baseAddress!))
            }
        }
    }
}
