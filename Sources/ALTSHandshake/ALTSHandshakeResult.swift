/// The authenticated peer, as read from its verified certificate.
public struct ALTSPeerIdentity: Hashable, Sendable {
    /// `NAME@PROJECT.iam.gserviceaccount.com`
    public let serviceAccount: String
    /// `project`, `spiffe_id`, `issuer`, `certificate_sha256`.
    public let attributes: [String: String]
}

/// What a successful handshake produces: everything the record layer and the application need.
public struct ALTSHandshakeResult: Sendable {
    public let recordProtocol: String
    public let applicationProtocol: String
    /// Identical at both ends: 44 bytes for ALTSRP_GCM_AES128_REKEY, 16 for ALTSRP_GCM_AES128.
    /// Hand it to the record protector, then `wipeKeyData()`.
    public private(set) var keyData: [UInt8]
    public let peer: ALTSPeerIdentity
    public let localServiceAccount: String
    public let peerRPCVersions: RPCProtocolVersions
    /// What the peer advertised; 0 if it did not say.
    public let peerMaxFrameSize: UInt32

    init(
        recordProtocol: String, applicationProtocol: String, keyData: [UInt8], peer: ALTSPeerIdentity,
        localServiceAccount: String, peerRPCVersions: RPCProtocolVersions, peerMaxFrameSize: UInt32
    ) {
        self.recordProtocol = recordProtocol
        self.applicationProtocol = applicationProtocol
        self.keyData = keyData
        self.peer = peer
        self.localServiceAccount = localServiceAccount
        self.peerRPCVersions = peerRPCVersions
        self.peerMaxFrameSize = peerMaxFrameSize
    }

    /// Overwrites this copy of the key material with zeros.
    public mutating func wipeKeyData() {
        for index in keyData.indices { keyData[index] = 0 }
        keyData = []
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
}
