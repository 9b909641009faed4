import ALTSHandshake
import ALTSHandshakerProto
import ALTSNIO
import ALTSRecord
import Foundation
import NIOCore

/// Runs one connection's handshake through a handshaker service instead of in process: the
/// process holds no private key. Our requests mirror what gRPC C-core sends (FACTS §9.2), and
/// the service's responses become the same `ALTSHandshakeStep`s the in-process core returns.
final class ALTSServiceHandshakeDriver: ALTSHandshakeDriver {
    private let role: ALTSRole
    private let options: ALTSHandshakeOptions
    private let client: ALTSHandshakerServiceClient
    private var call: HandshakerStreamCall?
    /// Watches the stream for the connection; handed to the stream once it is opened.
    private var lostPromise: EventLoopPromise<Void>?

    init(role: ALTSRole, options: ALTSHandshakeOptions, client: ALTSHandshakerServiceClient) {
        self.role = role
        self.options = options
        self.client = client
    }

    deinit {
        end()
    }

    func lost(on eventLoop: any EventLoop) -> EventLoopFuture<Void>? {
        let promise = eventLoop.makePromise(of: Void.self)
        lostPromise = promise
        call?.watch(promise)
        return promise.futureResult
    }

    func end() {
        call?.finish()
        // A no-op when the stream already failed it. Dropped once completed, so a late
        // deinit never schedules on an event loop that may have shut down.
        lostPromise?.succeed()
        lostPromise = nil
    }

    func start(on eventLoop: any EventLoop) -> EventLoopFuture<ALTSHandshakeStep> {
        guard role == .client else {
            // A server speaks only once the client's first bytes are in (server_start carries them).
            return eventLoop.makeSucceededFuture(ALTSHandshakeStep(outBytes: [], bytesConsumed: 0, outcome: .inProgress))
        }
        var start = Grpc_Gcp_StartClientHandshakeReq()
        start.handshakeSecurityProtocol = .alts
        start.applicationProtocols = options.applicationProtocols
        start.recordProtocols = options.recordProtocols
        start.targetIdentities = options.targetServiceAccounts.map { account in
            var identity = Grpc_Gcp_Identity()
            identity.serviceAccount = account
            return identity
        }
        start.rpcVersions = encode(options.rpcVersions)
        start.maxFrameSize = options.maxFrameSize
        var request = Grpc_Gcp_HandshakerReq()
        request.clientStart = start
        return send(request, on: eventLoop, input: [])
    }

    func process(_ bytes: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<ALTSHandshakeStep> {
        var request = Grpc_Gcp_HandshakerReq()
        if call == nil && role == .server {
            var start = Grpc_Gcp_StartServerHandshakeReq()
            start.applicationProtocols = options.applicationProtocols
            var parameters = Grpc_Gcp_ServerHandshakeParameters()
            parameters.recordProtocols = options.recordProtocols
            start.handshakeParameters = [Int32(Grpc_Gcp_HandshakeProtocol.alts.rawValue): parameters]
            start.inBytes = Data(bytes)
            start.rpcVersions = encode(options.rpcVersions)
            start.maxFrameSize = options.maxFrameSize
            request.serverStart = start
        } else {
            var next = Grpc_Gcp_NextHandshakeMessageReq()
            next.inBytes = Data(bytes)
            request.next = next
        }
        return send(request, on: eventLoop, input: bytes)
    }

    private func send(_ request: Grpc_Gcp_HandshakerReq, on eventLoop: any EventLoop, input: [UInt8]) -> EventLoopFuture<ALTSHandshakeStep> {
        let call: HandshakerStreamCall
        if let existing = self.call {
            call = existing
        } else {
            call = HandshakerStreamCall(connections: client.connections, eventLoop: eventLoop)
            self.call = call
            if let lostPromise { call.watch(lostPromise) }
        }
        let role = self.role, options = self.options
        return call.send(request).map { response in
            let step = Self.step(from: response, inputCount: input.count, role: role, options: options)
            if case .inProgress = step.outcome {} else { call.finish() }
            return step
        }
    }

    /// Translates a response, checking what stock gRPC libraries check of a result (FACTS §4.5).
    static func step(from response: Grpc_Gcp_HandshakerResp, inputCount: Int, role: ALTSRole, options: ALTSHandshakeOptions) -> ALTSHandshakeStep {
        let outBytes = Array(response.outFrames)
        let consumed = Int(response.bytesConsumed)
        func failed(_ error: ALTSHandshakeError, alert: ALTSHandshakeAlert? = nil) -> ALTSHandshakeStep {
            ALTSHandshakeStep(outBytes: outBytes + (alert?.wireMessage ?? []), bytesConsumed: min(consumed, inputCount), outcome: .failed(error))
        }
        guard response.hasStatus else {
            return failed(ALTSHandshakeError(.handshakerService(code: 2, details: "response without status")), alert: .internalError)
        }
        guard response.status.code == 0 else {
            return failed(ALTSHandshakeError(.handshakerService(code: response.status.code, details: response.status.details)))
        }
        guard consumed <= inputCount else {
            return failed(ALTSHandshakeError(.handshakerService(code: 13, details: "bytes_consumed \(consumed) exceeds the \(inputCount) bytes sent")), alert: .internalError)
        }
        guard response.hasResult else {
            return ALTSHandshakeStep(outBytes: outBytes, bytesConsumed: consumed, outcome: .inProgress)
        }
        let result = response.result
        guard let recordProtocol = ALTSRecordProtocol(rawValue: result.recordProtocol) else {
            return failed(ALTSHandshakeError(.noCommonRecordProtocol(offered: [result.recordProtocol], supported: options.recordProtocols)), alert: .handshakeFailure)
        }
        guard result.keyData.count >= recordProtocol.keyLength, result.hasPeerIdentity, !result.peerIdentity.serviceAccount.isEmpty,
              !result.applicationProtocol.isEmpty, result.hasPeerRpcVersions
        else {
            return failed(ALTSHandshakeError(.handshakerService(code: 13, details: "incomplete handshaker result")), alert: .internalError)
        }
        let peer = result.peerIdentity.serviceAccount
        if role == .server, !options.allowedPeerServiceAccounts.isEmpty, !options.allowedPeerServiceAccounts.contains(peer) {
            return failed(ALTSHandshakeError(.peerNotAllowed(peer: peer, allowed: options.allowedPeerServiceAccounts)), alert: .accessDenied)
        }
        let versions = RPCProtocolVersions(
            max: .init(major: result.peerRpcVersions.maxRpcVersion.major, minor: result.peerRpcVersions.maxRpcVersion.minor),
            min: .init(major: result.peerRpcVersions.minRpcVersion.major, minor: result.peerRpcVersions.minRpcVersion.minor))
        guard options.rpcVersions.highestCommonVersion(with: versions) != nil else {
            return failed(ALTSHandshakeError(.incompatibleRPCVersions(local: options.rpcVersions, peer: versions)), alert: .handshakeFailure)
        }
        let completed = ALTSHandshakeResult(
            recordProtocol: result.recordProtocol, applicationProtocol: result.applicationProtocol,
            keyMaterial: Array(result.keyData), keyLength: recordProtocol.keyLength,
            peer: ALTSPeerIdentity(serviceAccount: peer, attributes: result.peerIdentity.attributes),
            localServiceAccount: result.localIdentity.serviceAccount, peerRPCVersions: versions, peerMaxFrameSize: result.maxFrameSize)
        return ALTSHandshakeStep(outBytes: outBytes, bytesConsumed: consumed, outcome: .completed(completed))
    }

    private func encode(_ versions: RPCProtocolVersions) -> Grpc_Gcp_RpcProtocolVersions {
        var encoded = Grpc_Gcp_RpcProtocolVersions()
        encoded.maxRpcVersion.major = versions.max.major
        encoded.maxRpcVersion.minor = versions.max.minor
        encoded.minRpcVersion.major = versions.min.major
        encoded.minRpcVersion.minor = versions.min.minor
        return encoded
    }
}

extension ALTSHandshakerFactory {
    /// Hands every handshake to the handshaker service `client` is connected to.
    public static func handshakerService(_ client: ALTSHandshakerServiceClient, options: ALTSHandshakeOptions) -> Self {
        Self { role in ALTSServiceHandshakeDriver(role: role, options: options, client: client) }
    }
}
