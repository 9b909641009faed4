/// The authenticated peer, as read from its verified certificate.
public struct ALTSPeerIdentity: Hashable, Sendable {
    /// `NAME@PROJECT.iam.gserviceaccount.com`
    public let serviceAccount: String
    /// `project`, `spiffe_id`, `issuer`, `certificate_sha256`.
    public let attributes: [String: String]

    package init(serviceAccount: String, attributes: [String: String]) {
        self.serviceAccount = serviceAccount
        self.attributes = attributes
    }
}

/// What a successful handshake produces: everything the record layer and the application need.
public struct ALTSHandshakeResult: Sendable {
    public let recordProtocol: String
    public let applicationProtocol: String
    /// Identical at both ends: 44 bytes for ALTSRP_GCM_AES128_REKEY, 16 for ALTSRP_GCM_AES128.
    /// Hand it to the record protector, then `wipeKeyData()`.
    public var keyData: [UInt8] { Array(keyMaterial.prefix(keyLength)) }
    /// All 44 bytes the handshake derived, of which `keyData` is the prefix: what a
    /// handshaker service returns as `key_data` (gRPC peers require at least 44).
    public private(set) var keyMaterial: [UInt8]
    private let keyLength: Int
    public let peer: ALTSPeerIdentity
    public let localServiceAccount: String
    public let peerRPCVersions: RPCProtocolVersions
    /// What the peer advertised; 0 if it did not say.
    public let peerMaxFrameSize: UInt32

    package init(
        recordProtocol: String, applicationProtocol: String, keyMaterial: [UInt8], keyLength: Int, peer: ALTSPeerIdentity,
        localServiceAccount: String, peerRPCVersions: RPCProtocolVersions, peerMaxFrameSize: UInt32
    ) {
        self.recordProtocol = recordProtocol
        self.applicationProtocol = applicationProtocol
        self.keyMaterial = keyMaterial
        self.keyLength = keyLength
        self.peer = peer
        self.localServiceAccount = localServiceAccount
        self.peerRPCVersions = peerRPCVersions
        self.peerMaxFrameSize = peerMaxFrameSize
    }

    /// Overwrites this copy of the key material with zeros.
    public mutating func wipeKeyData() {
        for index in keyMaterial.indices { keyMaterial[index] = 0 }
        keyMaterial = []
    }
}

/// What one call into the handshaker produced, mirroring a HandshakerResp: bytes to send to the
/// peer (sent even on failure: they carry the alert), how many input bytes the handshake used,
/// and whether it finished.
public struct ALTSHandshakeStep: Sendable {
    public enum Outcome: Sendable {
        case inProgress
        case completed(ALTSHandshakeResult)
        case failed(ALTSHandshakeError)
    }

    public var outBytes: [UInt8]
    /// Input bytes that belonged to the handshake, including a partial message now buffered.
    /// Bytes after the final handshake message are not counted: they are the peer's first
    /// protected records.
    public var bytesConsumed: Int
    public var outcome: Outcome

    public init(outBytes: [UInt8], bytesConsumed: Int, outcome: Outcome) {
        self.outBytes = outBytes
        self.bytesConsumed = bytesConsumed
        self.outcome = outcome
    }
}
