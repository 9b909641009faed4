import Foundation

/// Every way a handshake can fail, one kind each, so callers and tests can tell them apart.
/// Descriptions name what failed; none contains key material.
public struct ALTSHandshakeError: Error, Hashable, Sendable, CustomStringConvertible {
    public indirect enum Kind: Hashable, Sendable {
        /// The server's account is not among the client's target service accounts.
        case targetMismatch(peer: String, targets: [String])
        /// The client's account is not on the server's allow-list.
        case peerNotAllowed(peer: String, allowed: [String])
        /// The peer certificate does not chain to a root in the local trust bundle.
        case untrustedIssuer(issuer: String)
        case certificateExpired(notAfter: Date, now: Date)
        case certificateNotYetValid(notBefore: Date, now: Date)
        case wrongKeyUsage(String)
        /// Any other certificate problem (malformed, no service account, project mismatch…).
        case badCertificate(String)
        case incompatibleRPCVersions(local: RPCProtocolVersions, peer: RPCProtocolVersions)
        case noCommonRecordProtocol(offered: [String], supported: [String])
        case noCommonApplicationProtocol(offered: [String], supported: [String])
        case unsupportedVersion(UInt16)
        case messageTooLarge(length: Int, limit: Int)
        case malformedMessage(String)
        case unexpectedMessage(type: UInt8, expected: String)
        /// A ServerAuth/ClientAuth message did not decrypt: tampering or a different key.
        case decryptionFailed(message: String)
        case badSignature
        case badFinished
        case keyExchangeFailed
        case peerAlert(ALTSHandshakeAlert)
        /// Our own credential cannot be used (expired, or its key cannot sign).
        case localCredentialUnusable(String)
        case invalidOptions(String)
        /// The handshake already failed; it cannot continue.
        case alreadyFailed(Kind)
        /// Input arrived after the handshake had finished.
        case alreadyFinished
        /// A handshaker service refused the handshake: its status code and details.
        case handshakerService(code: UInt32, details: String)
        /// A handshaker service request was refused before it reached the handshake.
        case invalidRequest(String)
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String { Self.describe(kind) }

    /// The alert to send the peer, if any (none when the peer itself sent one).
    public var alert: ALTSHandshakeAlert? {
        switch kind {
        case .targetMismatch, .peerNotAllowed: return .accessDenied
        case .untrustedIssuer: return .unknownIssuer
        case .certificateExpired, .certificateNotYetValid: return .certificateExpired
        case .wrongKeyUsage, .badCertificate: return .badCertificate
        case .incompatibleRPCVersions, .noCommonRecordProtocol, .noCommonApplicationProtocol: return .handshakeFailure
        case .unsupportedVersion: return .protocolVersion
        case .messageTooLarge, .malformedMessage: return .decodeError
        case .unexpectedMessage: return .unexpectedMessage
        case .decryptionFailed, .badSignature, .badFinished, .keyExchangeFailed: return .decryptError
        case .localCredentialUnusable, .invalidOptions: return .internalError
        case .invalidRequest: return .internalError
        case .peerAlert, .alreadyFailed, .alreadyFinished, .handshakerService: return nil
        }
    }

    private static func describe(_ kind: Kind) -> String {
        switch kind {
        case .targetMismatch(let peer, let targets):
            return "peer service account \(peer) is not one of the target service accounts [\(targets.joined(separator: ", "))]"
        case .peerNotAllowed(let peer, let allowed):
            return "peer service account \(peer) is not in the allowed peer service accounts [\(allowed.joined(separator: ", "))]"
        case .untrustedIssuer(let issuer):
            return "peer certificate issuer '\(issuer)' is not in the trust bundle"
        case .certificateExpired(let notAfter, let now):
            return "peer certificate expired at \(notAfter.formatted(.iso8601)) (now \(now.formatted(.iso8601)))"
        case .certificateNotYetValid(let notBefore, let now):
            return "peer certificate is not valid before \(notBefore.formatted(.iso8601)) (now \(now.formatted(.iso8601)))"
        case .wrongKeyUsage(let detail):
            return "peer certificate has the wrong key usage: \(detail)"
        case .badCertificate(let detail):
            return "peer certificate rejected: \(detail)"
        case .incompatibleRPCVersions(let local, let peer):
            return "incompatible RPC protocol versions: local \(local), peer \(peer)"
        case .noCommonRecordProtocol(let offered, let supported):
            return "no common record protocol: offered [\(offered.joined(separator: ", "))], supported [\(supported.joined(separator: ", "))]"
        case .noCommonApplicationProtocol(let offered, let supported):
            return "no common application protocol: offered [\(offered.joined(separator: ", "))], supported [\(supported.joined(separator: ", "))]"
        case .unsupportedVersion(let version):
            return "unsupported handshake version \(version) (this end speaks 1)"
        case .messageTooLarge(let length, let limit):
            return "handshake message of \(length) bytes exceeds the limit of \(limit)"
        case .malformedMessage(let detail):
            return "malformed handshake message: \(detail)"
        case .unexpectedMessage(let type, let expected):
            return "unexpected handshake message type \(type), expected \(expected)"
        case .decryptionFailed(let message):
            return "\(message) failed to decrypt (tampered or keys differ)"
        case .badSignature:
            return "peer signature over the handshake transcript is invalid"
        case .badFinished:
            return "peer finished MAC is invalid"
        case .keyExchangeFailed:
            return "X25519 key exchange failed (invalid peer share)"
        case .peerAlert(let alert):
            return "peer aborted the handshake: \(alert)"
        case .localCredentialUnusable(let detail):
            return "local credential unusable: \(detail)"
        case .invalidOptions(let detail):
            return "invalid handshake options: \(detail)"
        case .alreadyFailed(let original):
            return "handshake already failed: \(describe(original))"
        case .alreadyFinished:
            return "handshake already finished"
        case .handshakerService(let code, let details):
            return "handshaker service refused the handshake (status \(code)): \(details)"
        case .invalidRequest(let detail):
            return "invalid handshaker request: \(detail)"
        }
    }
}
