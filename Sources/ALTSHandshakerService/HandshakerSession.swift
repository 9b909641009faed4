import ALTSHandshake
import ALTSHandshakerProto
import ALTSIdentity
import ALTSRecord
import Foundation
import GRPCCore

/// One `DoHandshake` stream as a pure state machine: each `HandshakerReq` in gives one
/// `HandshakerResp` out, and says whether the stream is done. It drives the same
/// `ALTSHandshaker` core as the in-process mode; this type only translates the
/// `grpc.gcp.HandshakerService` semantics (FACTS §4.5, §9):
///
/// - `client_start` → ClientInit in `out_frames`; `server_start` (with `handshake_parameters[2]`)
///   and `next` → whatever the bytes produce;
/// - `bytes_consumed` counts only handshake bytes, so the peer's first records stay with the
///   caller;
/// - every response carries a `status`; the stream ends after the result or an error;
/// - a failure still returns `out_frames`: the alert that makes the peer fail promptly.
public final class HandshakerSession {
    /// The loaded identities this service can handshake as; the first is the default.
    private let identities: [CredentialStore]
    private let limits: HandshakerServiceLimits
    private let now: @Sendable () -> Date
    private var handshaker: ALTSHandshaker?
    private(set) var isDone = false

    public private(set) var role: ALTSRole?
    /// Set once the handshake has succeeded: for the service's log and metrics.
    public private(set) var result: ALTSHandshakeResult?
    /// Set once it has failed.
    public private(set) var failure: ALTSHandshakeError?

    public init(identities: [CredentialStore], limits: HandshakerServiceLimits = .init(), now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(!identities.isEmpty, "a handshaker service needs at least one identity")
        self.identities = identities
        self.limits = limits
        self.now = now
    }

    /// Handles one request. After a response with `done`, the stream must end.
    public func handle(_ request: Grpc_Gcp_HandshakerReq) -> (response: Grpc_Gcp_HandshakerResp, done: Bool) {
        guard !isDone else {
            return finish(refusal: ALTSHandshakeError(.invalidRequest("the handshake on this stream has already ended")))
        }
        do throws(ALTSHandshakeError) {
            switch request.reqOneof {
            case .clientStart(let start)?:
                return respond(try startClient(start), inputCount: 0)
            case .serverStart(let start)?:
                let (server, input) = try startServer(start)
                return respond(input.isEmpty ? server.start() : server.process(input), inputCount: input.count)
            case .next(let next)?:
                guard let handshaker else {
                    throw ALTSHandshakeError(.invalidRequest("next arrived before client_start or server_start"))
                }
                try checkSize(next.inBytes.count)
                return respond(handshaker.process(next.inBytes), inputCount: next.inBytes.count)
            case nil:
                throw ALTSHandshakeError(.invalidRequest("request has none of client_start, server_start, next"))
            }
        } catch {
            return finish(refusal: error)
        }
    }

    // MARK: Starting

    private func startClient(_ start: Grpc_Gcp_StartClientHandshakeReq) throws(ALTSHandshakeError) -> ALTSHandshakeStep {
        guard handshaker == nil else { throw ALTSHandshakeError(.invalidRequest("client_start on a stream that already started")) }
        guard start.handshakeSecurityProtocol == .alts else {
            throw ALTSHandshakeError(.invalidRequest("handshake_security_protocol \(start.handshakeSecurityProtocol.rawValue) is not ALTS (2)"))
        }
        var options = try baseOptions(
            applicationProtocols: start.applicationProtocols, recordProtocols: start.recordProtocols,
            rpcVersions: start.hasRpcVersions ? start.rpcVersions : nil, maxFrameSize: start.maxFrameSize)
        options.targetServiceAccounts = try start.targetIdentities.map { identity throws(ALTSHandshakeError) -> String in
            guard case .serviceAccount(let account)? = identity.identityOneof, !account.isEmpty else {
                throw ALTSHandshakeError(.invalidRequest("target identities must be service accounts; hostname identities are not supported"))
            }
            return account
        }
        let credential = try chooseIdentity(start.hasLocalIdentity ? [start.localIdentity] : [])
        let client = try ALTSHandshaker(role: .client, credential: credential, options: options, now: now)
        handshaker = client
        role = .client
        return client.start()
    }

    private func startServer(_ start: Grpc_Gcp_StartServerHandshakeReq) throws(ALTSHandshakeError) -> (ALTSHandshaker, Data) {
        guard handshaker == nil else { throw ALTSHandshakeError(.invalidRequest("server_start on a stream that already started")) }
        guard let parameters = start.handshakeParameters[Int32(Grpc_Gcp_HandshakeProtocol.alts.rawValue)] else {
            throw ALTSHandshakeError(.invalidRequest("server_start has no handshake_parameters entry for ALTS (2)"))
        }
        try checkSize(start.inBytes.count)
        let options = try baseOptions(
            applicationProtocols: start.applicationProtocols, recordProtocols: parameters.recordProtocols,
            rpcVersions: start.hasRpcVersions ? start.rpcVersions : nil, maxFrameSize: start.maxFrameSize)
        let credential = try chooseIdentity(parameters.localIdentities)
        let server = try ALTSHandshaker(role: .server, credential: credential, options: options, now: now)
        handshaker = server
        role = .server
        return (server, start.inBytes)
    }

    private func baseOptions(
        applicationProtocols: [String], recordProtocols: [String], rpcVersions: Grpc_Gcp_RpcProtocolVersions?, maxFrameSize: UInt32
    ) throws(ALTSHandshakeError) -> ALTSHandshakeOptions {
        guard !applicationProtocols.isEmpty else { throw ALTSHandshakeError(.invalidRequest("application_protocols is empty")) }
        let supported = recordProtocols.filter { ALTSRecordProtocol(rawValue: $0) != nil }
        guard !supported.isEmpty else {
            throw ALTSHandshakeError(.noCommonRecordProtocol(offered: recordProtocols, supported: ALTSRecordProtocol.allCases.map(\.rawValue)))
        }
        var options = ALTSHandshakeOptions()
        options.applicationProtocols = applicationProtocols
        options.recordProtocols = supported
        options.maxFrameSize = maxFrameSize
        if let rpcVersions {
            options.rpcVersions = RPCProtocolVersions(
                max: .init(major: rpcVersions.maxRpcVersion.major, minor: rpcVersions.maxRpcVersion.minor),
                min: .init(major: rpcVersions.minRpcVersion.major, minor: rpcVersions.minRpcVersion.minor))
        }
        options.clockSkew = identities[0].clockSkew
        return options
    }

    /// The first requested identity this service holds; the default when none is requested.
    private func chooseIdentity(_ requested: [Grpc_Gcp_Identity]) throws(ALTSHandshakeError) -> ALTSCredential {
        let loaded = identities.map(\.current)
        let wanted = requested.compactMap { identity -> String? in
            if case .serviceAccount(let account)? = identity.identityOneof, !account.isEmpty { return account }
            return nil
        }
        if wanted.isEmpty { return loaded[0] }
        if let match = loaded.first(where: { wanted.contains($0.serviceAccount.email) }) { return match }
        throw ALTSHandshakeError(.invalidRequest(
            "local identity [\(wanted.joined(separator: ", "))] is not held by this handshaker (it holds \(loaded.map(\.serviceAccount.email).joined(separator: ", ")))"))
    }

    private func checkSize(_ count: Int) throws(ALTSHandshakeError) {
        guard count <= limits.maxInBytesPerRequest else {
            throw ALTSHandshakeError(.invalidRequest("in_bytes of \(count) bytes exceeds the limit of \(limits.maxInBytesPerRequest)"))
        }
    }

    // MARK: Responses

    private func respond(_ step: ALTSHandshakeStep, inputCount: Int) -> (response: Grpc_Gcp_HandshakerResp, done: Bool) {
        var response = Grpc_Gcp_HandshakerResp()
        response.outFrames = Data(step.outBytes)
        response.bytesConsumed = UInt32(step.bytesConsumed)
        switch step.outcome {
        case .inProgress:
            response.status = Self.status(.ok, "")
            return (response, false)
        case .completed(let result):
            self.result = result
            isDone = true
            response.status = Self.status(.ok, "")
            response.result = Self.encode(result)
            return (response, true)
        case .failed(let error):
            failure = error
            isDone = true
            response.status = Self.status(HandshakerStatusMapping.code(for: error), error.description)
            if step.outBytes.isEmpty {
                response.bytesConsumed = Self.abortingByteCount(inputCount: inputCount)
            }
            return (response, true)
        }
    }

    /// grpc-go looks at `status` only in the first response; after that it writes
    /// `out_frames` and reads from its peer again. A failure with an alert to send is fine: the
    /// peer hears it and closes. A failure with nothing to send (we were the side that received
    /// the alert) would leave both ends reading until their deadlines. The one thing grpc-go
    /// always checks is `bytes_consumed ≤ len(in_bytes)`, so a failure claims one byte more than
    /// it was given, which makes grpc-go give up at once. grpcio and Envoy read the status first.
    static func abortingByteCount(inputCount: Int) -> UInt32 {
        UInt32(clamping: inputCount + 1)
    }

    /// Ends the stream for a request the handshake never saw; a started handshake is aborted
    /// so its peer still receives an alert.
    private func finish(refusal error: ALTSHandshakeError) -> (response: Grpc_Gcp_HandshakerResp, done: Bool) {
        var response = Grpc_Gcp_HandshakerResp()
        if let handshaker, !handshaker.isDone {
            response.outFrames = Data(handshaker.abort(error).outBytes)
        }
        failure = failure ?? error
        isDone = true
        response.status = Self.status(HandshakerStatusMapping.code(for: error), error.description)
        return (response, true)
    }

    private static func status(_ code: Status.Code, _ details: String) -> Grpc_Gcp_HandshakerStatus {
        var status = Grpc_Gcp_HandshakerStatus()
        status.code = code == .ok ? 0 : UInt32(code.rawValue)
        status.details = details
        return status
    }

    private static func encode(_ result: ALTSHandshakeResult) -> Grpc_Gcp_HandshakerResult {
        var encoded = Grpc_Gcp_HandshakerResult()
        encoded.applicationProtocol = result.applicationProtocol
        encoded.recordProtocol = result.recordProtocol
        encoded.keyData = Data(result.keyMaterial)
        encoded.peerIdentity.serviceAccount = result.peer.serviceAccount
        encoded.peerIdentity.attributes = result.peer.attributes
        encoded.localIdentity.serviceAccount = result.localServiceAccount
        encoded.peerRpcVersions.maxRpcVersion.major = result.peerRPCVersions.max.major
        encoded.peerRpcVersions.maxRpcVersion.minor = result.peerRPCVersions.max.minor
        encoded.peerRpcVersions.minRpcVersion.major = result.peerRPCVersions.min.major
        encoded.peerRpcVersions.minRpcVersion.minor = result.peerRPCVersions.min.minor
        encoded.maxFrameSize = result.peerMaxFrameSize
        return encoded
    }
}
