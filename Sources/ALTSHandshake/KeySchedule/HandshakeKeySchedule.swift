import Crypto

/// HKDF-SHA256 key schedule in the style of TLS 1.3 (RFC 8446 §7.1), with a label prefix of
/// our own so no key can coincide with a TLS key. See docs/PROTOCOL.md.
struct HandshakeKeySchedule {
    static let labelPrefix = Array("swift-alts v1 ".utf8)
    static let extractSalt = Array(SHA256.hash(data: Array("swift-alts v1".utf8)))

    /// The keys protecting the one encrypted message a direction sends.
    struct DirectionKeys {
        let key: SymmetricKey
        let nonce: AES.GCM.Nonce
        let finishedKey: SymmetricKey
    }

    let handshakeSecret: SymmetricKey
    let server: DirectionKeys
    let client: DirectionKeys

    /// - Parameter initTranscriptHash: TH(ClientInit, ServerInit).
    init(sharedSecret: SharedSecret, initTranscriptHash: [UInt8]) {
        let ikm = sharedSecret.withUnsafeBytes { SymmetricKey(data: $0) }
        handshakeSecret = Self.extract(salt: Self.extractSalt, ikm: ikm)
        server = Self.directionKeys(Self.expandLabel(handshakeSecret, "s hs", initTranscriptHash, 32))
        client = Self.directionKeys(Self.expandLabel(handshakeSecret, "c hs", initTranscriptHash, 32))
    }

    /// Bytes of record key material every handshake derives. gRPC peers want at least 44
    /// (grpc-go slices 44 without checking), and a fixed length means a record protocol that
    /// needs fewer bytes takes a prefix both ends agree on.
    static let recordKeyMaterialLength = 44

    /// The record key material, bound to the complete transcript.
    func recordKeyData(finalTranscriptHash: [UInt8]) -> [UInt8] {
        let derived = Self.expandLabel(handshakeSecret, "derived", [], 32)
        let master = Self.extract(salt: derived.withUnsafeBytes { Array($0) }, ikm: SymmetricKey(data: [UInt8](repeating: 0, count: 32)))
        return Self.expandLabel(master, "record key", finalTranscriptHash, Self.recordKeyMaterialLength).withUnsafeBytes { Array($0) }
    }

    static func directionKeys(_ secret: SymmetricKey) -> DirectionKeys {
        let iv = expandLabel(secret, "iv", [], 12).withUnsafeBytes { Array($0) }
        return DirectionKeys(
            key: expandLabel(secret, "key", [], 16),
            nonce: try! AES.GCM.Nonce(data: iv),  // always 12 bytes
            finishedKey: expandLabel(secret, "finished", [], 32))
    }

    static func expandLabel(_ secret: SymmetricKey, _ label: String, _ context: [UInt8], _ length: Int) -> SymmetricKey {
        let fullLabel = labelPrefix + Array(label.utf8)
        var info: [UInt8] = [UInt8(length >> 8), UInt8(truncatingIfNeeded: length), UInt8(fullLabel.count)]
        info += fullLabel
        info.append(UInt8(context.count))
        info += context
        return HKDF<SHA256>.expand(pseudoRandomKey: secret, info: info, outputByteCount: length)
    }

    static func extract(salt: [UInt8], ikm: SymmetricKey) -> SymmetricKey {
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
        return prk.withUnsafeBytes { SymmetricKey(data: $0) }
    }
}
