import ALTSHandshake

/// Who is on the other end of an ALTS connection, and how it is protected: what grpc-go's
/// `alts.AuthInfo` and gRPC C-core's auth context tell applications (FACTS §5).
public struct ALTSAuthInfo: Hashable, Sendable, CustomStringConvertible {
    public enum SecurityLevel: String, Hashable, Sendable {
        case integrityOnly = "INTEGRITY_ONLY"
        case integrityAndPrivacy = "INTEGRITY_AND_PRIVACY"
    }

    public let peerServiceAccount: String
    public let localServiceAccount: String
    public let recordProtocol: String
    public let applicationProtocol: String
    public let securityLevel: SecurityLevel
    public let peerRPCVersions: RPCProtocolVersions
    /// `project`, `spiffe_id`, `issuer`, `certificate_sha256` of the peer's certificate.
    public let peerAttributes: [String: String]

    public init(result: ALTSHandshakeResult) {
        peerServiceAccount = result.peer.serviceAccount
        localServiceAccount = result.localServiceAccount
        recordProtocol = result.recordProtocol
        applicationProtocol = result.applicationProtocol
        securityLevel = .integrityAndPrivacy
        peerRPCVersions = result.peerRPCVersions
        peerAttributes = result.peer.attributes
    }

    public var description: String {
        "ALTSAuthInfo(peer: \(peerServiceAccount), local: \(localServiceAccount), \(recordProtocol), \(applicationProtocol))"
    }
}

/// Fired inbound (as a user event) when the handshake has succeeded and the record layer is
/// in place; application writes buffered during the handshake follow it.
public struct ALTSHandshakeCompletedEvent: Sendable {
    public let authInfo: ALTSAuthInfo
}
