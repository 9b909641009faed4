import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ALTSProxyConfig
import Synchronization

/// Where the proxy's ALTS handshakes happen.
public enum ProxyHandshakeSource: Sendable {
    /// As Envoy does: each transport socket hands its handshakes to the
    /// grpc.gcp.HandshakerService named by its `handshaker_service`.
    case handshakerService
    /// alts-proxy's extension (`--alts-credentials DIR`): every handshake in this process,
    /// with this credential; `handshaker_service` is then not contacted.
    case embedded(CredentialStore)
}

/// Makes the handshaker factory for each `envoy.transport_sockets.alts` of the config. One
/// handshaker-service client per distinct service address, shared by all sockets naming it.
public final class ALTSTransportSockets: Sendable {
    private let source: ProxyHandshakeSource
    private let clients = Mutex<[String: ALTSHandshakerServiceClient]>([:])

    public init(source: ProxyHandshakeSource) {
        self.source = source
    }

    /// Envoy checks `peer_service_accounts` itself after the handshake (so that it can log
    /// which peer it refused); the handshake options carry no targets.
    public func factory(for socket: ALTSTransportSocketConfig) throws -> ALTSHandshakerFactory {
        let options = ALTSHandshakeOptions()
        switch source {
        case .embedded(let store):
            return .inProcess(credentials: store, options: options)
        case .handshakerService:
            let client = try clients.withLock { clients in
                if let client = clients[socket.handshakerService] { return client }
                let client = try ALTSHandshakerServiceClient(address: ALTSAddress(parsing: socket.handshakerService))
                clients[socket.handshakerService] = client
                return client
            }
            return .handshakerService(client, options: options)
        }
    }

    public func shutdown() {
        clients.withLock { clients in
            for client in clients.values { client.shutdown() }
            clients.removeAll()
        }
    }
}

extension ALTSTransportSocketConfig {
    /// Envoy's rule: an empty list admits any authenticated peer.
    func admits(_ peerServiceAccount: String) -> Bool {
        peerServiceAccounts.isEmpty || peerServiceAccounts.contains(peerServiceAccount)
    }
}

/// The handshake validation failure Envoy reports, word for word, so that operators' log
/// searches work for both.
struct PeerServiceAccountMismatch: Error, CustomStringConvertible {
    let peer: String
    let allowed: [String]

    var description: String {
        "Couldn't find peer's service account in peer_service_accounts: \(peer) (peer_service_accounts: \(allowed.joined(separator: ", ")))"
    }
}

/// A short, bounded label for a failed handshake in `/stats`.
func handshakeFailureReason(_ error: any Error) -> String {
    switch error {
    case is PeerServiceAccountMismatch:
        return "peer_service_account_mismatch"
    case let error as ALTSChannelError:
        switch error.kind {
        case .handshakeTimeout: return "timeout"
        case .closedDuringHandshake: return "closed"
        case .driverFailed: return "handshaker_unavailable"
        }
    case let error as ALTSHandshakeError:
        return handshakeErrorReason(error.kind)
    default:
        return "other"
    }
}

private func handshakeErrorReason(_ kind: ALTSHandshakeError.Kind) -> String {
    switch kind {
    case .targetMismatch: return "target_mismatch"
    case .peerNotAllowed: return "peer_not_allowed"
    case .untrustedIssuer: return "untrusted_issuer"
    case .certificateExpired, .certificateNotYetValid: return "certificate_expired"
    case .wrongKeyUsage, .badCertificate: return "bad_certificate"
    case .incompatibleRPCVersions, .noCommonRecordProtocol, .noCommonApplicationProtocol: return "no_common_protocol"
    case .unsupportedVersion, .messageTooLarge, .malformedMessage, .unexpectedMessage: return "malformed"
    case .decryptionFailed, .badSignature, .badFinished, .keyExchangeFailed: return "verification_failed"
    case .peerAlert: return "peer_alert"
    case .localCredentialUnusable: return "local_credential_unusable"
    case .invalidOptions, .invalidRequest: return "invalid_request"
    case .alreadyFailed(let inner): return handshakeErrorReason(inner)
    case .alreadyFinished: return "malformed"
    case .handshakerService: return "handshaker_service"
    }
}
