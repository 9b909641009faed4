import ALTSRecord
import Foundation

/// What one end offers and requires. The defaults are what stock gRPC sends (FACTS §7).
public struct ALTSHandshakeOptions: Sendable {
    /// In preference order. The server picks the first of the client's that it also lists.
    public var recordProtocols: [String] = [ALTSRecordProtocol.aes128GCMRekey.rawValue]
    public var applicationProtocols: [String] = ["grpc"]
    public var rpcVersions: RPCProtocolVersions = .grpcDefault
    /// Our own largest acceptable frame; the peer learns it in the handshake.
    public var maxFrameSize: UInt32 = ALTSFrameSizing.advertisedMaxFrameSize
    /// Client only: accepted server accounts (emails). Empty accepts any account the trust
    /// bundle vouches for.
    public var targetServiceAccounts: [String] = []
    /// Server only: accepted client accounts. Empty accepts any account the bundle vouches for.
    public var allowedPeerServiceAccounts: [String] = []
    /// Tolerance for clock differences when checking certificate validity.
    public var clockSkew: TimeInterval = 300

    public init() {}

    func validate() throws(ALTSHandshakeError) {
        guard !recordProtocols.isEmpty else { throw ALTSHandshakeError(.invalidOptions("no record protocols")) }
        guard !applicationProtocols.isEmpty else { throw ALTSHandshakeError(.invalidOptions("no application protocols")) }
        for name in recordProtocols where ALTSRecordProtocol(rawValue: name) == nil {
            throw ALTSHandshakeError(.invalidOptions("unknown record protocol '\(name)'"))
        }
        for name in recordProtocols + applicationProtocols where name.utf8.count == 0 || name.utf8.count > 255 {
            throw ALTSHandshakeError(.invalidOptions("protocol name '\(name)' must be 1-255 bytes"))
        }
        guard recordProtocols.count <= HandshakeLimits.maxListCount, applicationProtocols.count <= HandshakeLimits.maxListCount else {
            throw ALTSHandshakeError(.invalidOptions("more than \(HandshakeLimits.maxListCount) protocols"))
        }
    }
}
