import ALTSIdentity
import ALTSRecord
import Crypto
import Foundation

/// One end of a swift-alts handshake (docs/PROTOCOL.md) as a pure state machine: no I/O, no
/// threads, no clock but the one it is given. Its interface mirrors the handshaker service:
/// `start()` is `client_start`/`server_start`, `process(_:)` is `next`, and each call returns
/// the bytes to send, how many input bytes the handshake used, and the outcome. The same core
/// backs the in-process NIO handler and the `grpc.gcp.HandshakerService` server.
///
/// Not thread-safe: drive one handshaker from one place at a time.
public final class ALTSHandshaker {
    public let role: ALTSRole
    public let options: ALTSHandshakeOptions
    private let credential: ALTSCredential
    private let now: @Sendable () -> Date
    private var state: State
    private var buffer = HandshakeMessageBuffer()

    private enum State {
        case clientReady
        case clientAwaitingServerInit(ClientFlight)
        case clientAwaitingServerAuth(ClientFlight, ServerInit, HandshakeKeySchedule)
        case serverAwaitingClientInit
        case serverAwaitingClientAuth(ServerFlight)
        case finished
        case failed(ALTSHandshakeError)
    }

    private struct ClientFlight {
        let ephemeralKey: Curve25519.KeyAgreement.PrivateKey
        let clientInit: ClientInit
        var transcript: Transcript
    }

    private struct ServerFlight {
        let clientInit: ClientInit
        let recordProtocol: ALTSRecordProtocol
        let applicationProtocol: String
        let schedule: HandshakeKeySchedule
        var transcript: Transcript
    }

    public init(
        role: ALTSRole, credential: ALTSCredential, options: ALTSHandshakeOptions = ALTSHandshakeOptions(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(ALTSHandshakeError) {
        try options.validate()
        self.role = role
        self.credential = credential
        self.options = options
        self.now = now
        self.state = role == .client ? .clientReady : .serverAwaitingClientInit
    }

    /// Client: produces ClientInit. Server: nothing to send until the client speaks.
    public func start() -> ALTSHandshakeStep {
        guard case .clientReady = state else {
            return ALTSHandshakeStep(outBytes: [], bytesConsumed: 0, outcome: .inProgress)
        }
        // Our own certificate is not checked here: an expired one is sent anyway, so the peer
        // reports certificate_expired with dates, as TLS stacks do.
        let ephemeralKey = Curve25519.KeyAgreement.PrivateKey()
        let clientInit = ClientInit(
            random: Self.freshRandom(), keyShare: Array(ephemeralKey.publicKey.rawRepresentation),
            recordProtocols: options.recordProtocols, applicationProtocols: options.applicationProtocols,
            rpcVersions: options.rpcVersions, maxFrameSize: options.maxFrameSize)
        let bytes = clientInit.encode()
        var transcript = Transcript()
        transcript.add(bytes)
        state = .clientAwaitingServerInit(ClientFlight(ephemeralKey: ephemeralKey, clientInit: clientInit, transcript: transcript))
        return ALTSHandshakeStep(outBytes: bytes, bytesConsumed: 0, outcome: .inProgress)
    }

    /// Feeds bytes received from the peer, in any split.
    public func process(_ input: some Collection<UInt8>) -> ALTSHandshakeStep {
        switch state {
        case .finished:
            return ALTSHandshakeStep(outBytes: [], bytesConsumed: 0, outcome: .failed(ALTSHandshakeError(.alreadyFinished)))
        case .failed(let error):
            return ALTSHandshakeStep(outBytes: [], bytesConsumed: 0, outcome: .failed(ALTSHandshakeError(.alreadyFailed(error.kind))))
        case .clientReady:
            return fail(ALTSHandshakeError(.invalidOptions("process(_:) called before start()")), out: [], consumed: input.count)
        default:
            break
        }
        buffer.append(input)
        var out: [UInt8] = []
        do throws(ALTSHandshakeError) {
            while let message = try buffer.next() {
                if message.typeByte == HandshakeMessageType.alert.rawValue {
                    throw ALTSHandshakeError(.peerAlert(try Self.decodeAlert(message)))
                }
                if let result = try handle(message, out: &out) {
                    state = .finished
                    // Whatever follows the final message is the peer's first protected data.
                    let consumed = max(0, input.count - buffer.bufferedCount)
                    return ALTSHandshakeStep(outBytes: out, bytesConsumed: consumed, outcome: .completed(result))
                }
            }
            return ALTSHandshakeStep(outBytes: out, bytesConsumed: input.count, outcome: .inProgress)
        } catch {
            return fail(error, out: out, consumed: input.count)
        }
    }

    /// Ends a handshake from outside (a request the handshaker service refuses mid-way, say):
    /// returns the alert to send the peer, and every later call fails.
    public func abort(_ error: ALTSHandshakeError) -> ALTSHandshakeStep {
        guard !isDone else {
            return ALTSHandshakeStep(outBytes: [], bytesConsumed: 0, outcome: .failed(error))
        }
        return fail(error, out: [], consumed: 0)
    }

    /// Whether the handshake has ended, either way.
    public var isDone: Bool {
        switch state {
        case .finished, .failed: return true
        default: return false
        }
    }

    private func fail(_ error: ALTSHandshakeError, out: [UInt8], consumed: Int) -> ALTSHandshakeStep {
        state = .failed(error)
        var bytes = out
        if let alert = error.alert {
            bytes += HandshakeMessage.frame(.alert, body: [alert.rawValue])
        }
        return ALTSHandshakeStep(outBytes: bytes, bytesConsumed: consumed, outcome: .failed(error))
    }

    private func handle(_ message: HandshakeMessage, out: inout [UInt8]) throws(ALTSHandshakeError) -> ALTSHandshakeResult? {
        switch state {
        case .clientAwaitingServerInit(let flight):
            try expect(message, .serverInit)
            let (serverInit, schedule, advanced) = try clientReceive(serverInit: message, flight)
            state = .clientAwaitingServerAuth(advanced, serverInit, schedule)
            return nil
        case .clientAwaitingServerAuth(let flight, let serverInit, let schedule):
            try expect(message, .serverAuth)
            return try clientReceive(serverAuth: message, flight, serverInit, schedule, out: &out)
        case .serverAwaitingClientInit:
            try expect(message, .clientInit)
            let flight = try serverReceive(clientInit: message, out: &out)
            state = .serverAwaitingClientAuth(flight)
            return nil
        case .serverAwaitingClientAuth(let flight):
            try expect(message, .clientAuth)
            return try serverReceive(clientAuth: message, flight)
        case .clientReady, .finished, .failed:
            preconditionFailure("handled before messages are read")
        }
    }

    // MARK: Client

    private func clientReceive(
        serverInit message: HandshakeMessage, _ flight: ClientFlight
    ) throws(ALTSHandshakeError) -> (ServerInit, HandshakeKeySchedule, ClientFlight) {
        let serverInit = try ServerInit.decode(message.body)
        guard flight.clientInit.recordProtocols.contains(serverInit.recordProtocol) else {
            throw ALTSHandshakeError(.malformedMessage("ServerInit chose record protocol '\(serverInit.recordProtocol)', which was not offered"))
        }
        guard flight.clientInit.applicationProtocols.contains(serverInit.applicationProtocol) else {
            throw ALTSHandshakeError(.malformedMessage("ServerInit chose application protocol '\(serverInit.applicationProtocol)', which was not offered"))
        }
        try checkRPCVersions(peer: serverInit.rpcVersions)
        let shared = try Self.agree(flight.ephemeralKey, peerShare: serverInit.keyShare)
        var advanced = flight
        advanced.transcript.add(message.bytes)
        return (serverInit, HandshakeKeySchedule(sharedSecret: shared, initTranscriptHash: advanced.transcript.hash), advanced)
    }

    private func clientReceive(
        serverAuth message: HandshakeMessage, _ flight: ClientFlight, _ serverInit: ServerInit,
        _ schedule: HandshakeKeySchedule, out: inout [UInt8]
    ) throws(ALTSHandshakeError) -> ALTSHandshakeResult {
        var transcript = flight.transcript
        let peer = try verifyAuth(message, name: "ServerAuth", keys: schedule.server, signer: "server", transcript: &transcript)
        if !options.targetServiceAccounts.isEmpty && !options.targetServiceAccounts.contains(peer.serviceAccount.email) {
            throw ALTSHandshakeError(.targetMismatch(peer: peer.serviceAccount.email, targets: options.targetServiceAccounts))
        }
        out += try authMessage(.clientAuth, keys: schedule.client, signer: "client", transcript: &transcript)
        let recordProtocol = try Self.recordProtocol(named: serverInit.recordProtocol)
        return result(
            recordProtocol: recordProtocol, applicationProtocol: serverInit.applicationProtocol, schedule: schedule,
            transcript: transcript, peer: peer, peerVersions: serverInit.rpcVersions, peerMaxFrameSize: serverInit.maxFrameSize)
    }

    // MARK: Server

    private func serverReceive(clientInit message: HandshakeMessage, out: inout [UInt8]) throws(ALTSHandshakeError) -> ServerFlight {
        let clientInit = try ClientInit.decode(message.body)
        guard let recordName = clientInit.recordProtocols.first(where: options.recordProtocols.contains) else {
            throw ALTSHandshakeError(.noCommonRecordProtocol(offered: clientInit.recordProtocols, supported: options.recordProtocols))
        }
        guard let applicationProtocol = clientInit.applicationProtocols.first(where: options.applicationProtocols.contains) else {
            throw ALTSHandshakeError(.noCommonApplicationProtocol(offered: clientInit.applicationProtocols, supported: options.applicationProtocols))
        }
        try checkRPCVersions(peer: clientInit.rpcVersions)
        let ephemeralKey = Curve25519.KeyAgreement.PrivateKey()
        let shared = try Self.agree(ephemeralKey, peerShare: clientInit.keyShare)
        let serverInit = ServerInit(
            random: Self.freshRandom(), keyShare: Array(ephemeralKey.publicKey.rawRepresentation),
            recordProtocol: recordName, applicationProtocol: applicationProtocol,
            rpcVersions: options.rpcVersions, maxFrameSize: options.maxFrameSize)
        let serverInitBytes = serverInit.encode()
        var transcript = Transcript()
        transcript.add(message.bytes)
        transcript.add(serverInitBytes)
        let schedule = HandshakeKeySchedule(sharedSecret: shared, initTranscriptHash: transcript.hash)
        out += serverInitBytes
        out += try authMessage(.serverAuth, keys: schedule.server, signer: "server", transcript: &transcript)
        return ServerFlight(
            clientInit: clientInit, recordProtocol: try Self.recordProtocol(named: recordName),
            applicationProtocol: applicationProtocol, schedule: schedule, transcript: transcript)
    }

    private func serverReceive(clientAuth message: HandshakeMessage, _ flight: ServerFlight) throws(ALTSHandshakeError) -> ALTSHandshakeResult {
        var transcript = flight.transcript
        let peer = try verifyAuth(message, name: "ClientAuth", keys: flight.schedule.client, signer: "client", transcript: &transcript)
        if !options.allowedPeerServiceAccounts.isEmpty && !options.allowedPeerServiceAccounts.contains(peer.serviceAccount.email) {
            throw ALTSHandshakeError(.peerNotAllowed(peer: peer.serviceAccount.email, allowed: options.allowedPeerServiceAccounts))
        }
        return result(
            recordProtocol: flight.recordProtocol, applicationProtocol: flight.applicationProtocol, schedule: flight.schedule,
            transcript: transcript, peer: peer, peerVersions: flight.clientInit.rpcVersions, peerMaxFrameSize: flight.clientInit.maxFrameSize)
    }

    // MARK: Authentication

    /// Builds ServerAuth or ClientAuth: our certificate, our signature over the transcript,
    /// and the finished MAC, encrypted under this direction's handshake key.
    private func authMessage(
        _ type: HandshakeMessageType, keys: HandshakeKeySchedule.DirectionKeys, signer: String, transcript: inout Transcript
    ) throws(ALTSHandshakeError) -> [UInt8] {
        let certificates = AuthPayload.encodeCertificates([credential.certificateDER])
        transcript.add(certificates)
        let signature: [UInt8]
        do {
            signature = try credential.sign(Self.signatureInput(signer: signer, transcriptHash: transcript.hash))
        } catch {
            throw ALTSHandshakeError(.localCredentialUnusable("cannot sign: \(error)"))
        }
        let signatureEncoding = AuthPayload.encodeSignature(signature)
        transcript.add(signatureEncoding)
        let finished = Array(HMAC<SHA256>.authenticationCode(for: transcript.hash, using: keys.finishedKey))
        transcript.add(finished)
        let payload = AuthPayload(certificatesEncoding: certificates, signatureEncoding: signatureEncoding, finished: finished).encoded
        let header = HandshakeMessage.header(type, bodyLength: payload.count + HandshakeLimits.tagSize)
        do {
            let sealed = try AES.GCM.seal(payload, using: keys.key, nonce: keys.nonce, authenticating: header)
            return header + Array(sealed.ciphertext) + Array(sealed.tag)
        } catch {
            throw ALTSHandshakeError(.localCredentialUnusable("cannot encrypt: \(error)"))
        }
    }

    /// Decrypts and checks the peer's ServerAuth or ClientAuth, in the order of
    /// docs/PROTOCOL.md: AEAD, encoding, certificate, signature, finished.
    private func verifyAuth(
        _ message: HandshakeMessage, name: String, keys: HandshakeKeySchedule.DirectionKeys, signer: String,
        transcript: inout Transcript
    ) throws(ALTSHandshakeError) -> VerifiedPeer {
        let body = message.body
        guard body.count >= HandshakeLimits.tagSize else { throw ALTSHandshakeError(.decryptionFailed(message: name)) }
        let plaintext: [UInt8]
        do {
            let box = try AES.GCM.SealedBox(nonce: keys.nonce, ciphertext: body.dropLast(HandshakeLimits.tagSize), tag: body.suffix(HandshakeLimits.tagSize))
            plaintext = Array(try AES.GCM.open(box, using: keys.key, authenticating: message.header))
        } catch {
            throw ALTSHandshakeError(.decryptionFailed(message: name))
        }
        let payload = try AuthPayload.decode(plaintext, message: name)
        guard payload.certificates.count == 1 else {
            throw ALTSHandshakeError(.badCertificate("\(payload.certificates.count) certificates sent; only a leaf signed by a project root is accepted"))
        }
        let peer: VerifiedPeer
        do {
            peer = try credential.trustBundle.verifyPeer(certificateDER: payload.certificates[0], now: now(), clockSkew: options.clockSkew)
        } catch {
            throw Self.certificateError(error)
        }
        transcript.add(payload.certificatesEncoding)
        guard peer.isValidSignature(payload.signature, for: Self.signatureInput(signer: signer, transcriptHash: transcript.hash)) else {
            throw ALTSHandshakeError(.badSignature)
        }
        transcript.add(payload.signatureEncoding)
        guard HMAC<SHA256>.isValidAuthenticationCode(payload.finished, authenticating: transcript.hash, using: keys.finishedKey) else {
            throw ALTSHandshakeError(.badFinished)
        }
        transcript.add(payload.finished)
        return peer
    }

    private func result(
        recordProtocol: ALTSRecordProtocol, applicationProtocol: String, schedule: HandshakeKeySchedule,
        transcript: Transcript, peer: VerifiedPeer, peerVersions: RPCProtocolVersions, peerMaxFrameSize: UInt32
    ) -> ALTSHandshakeResult {
        ALTSHandshakeResult(
            recordProtocol: recordProtocol.rawValue,
            applicationProtocol: applicationProtocol,
            keyMaterial: schedule.recordKeyData(finalTranscriptHash: transcript.hash),
            keyLength: recordProtocol.keyLength,
            peer: ALTSPeerIdentity(serviceAccount: peer.serviceAccount.email, attributes: [
                "project": peer.serviceAccount.project,
                "spiffe_id": peer.serviceAccount.spiffeID,
                "issuer": peer.issuer,
                "certificate_sha256": peer.fingerprintSHA256,
            ]),
            localServiceAccount: credential.serviceAccount.email,
            peerRPCVersions: peerVersions,
            peerMaxFrameSize: peerMaxFrameSize)
    }

    // MARK: Checks and helpers

    private func expect(_ message: HandshakeMessage, _ type: HandshakeMessageType) throws(ALTSHandshakeError) {
        guard message.typeByte == type.rawValue else {
            throw ALTSHandshakeError(.unexpectedMessage(type: message.typeByte, expected: type.description))
        }
    }

    private func checkRPCVersions(peer: RPCProtocolVersions) throws(ALTSHandshakeError) {
        guard options.rpcVersions.highestCommonVersion(with: peer) != nil else {
            throw ALTSHandshakeError(.incompatibleRPCVersions(local: options.rpcVersions, peer: peer))
        }
    }

    private static func agree(_ key: Curve25519.KeyAgreement.PrivateKey, peerShare: [UInt8]) throws(ALTSHandshakeError) -> SharedSecret {
        do {
            return try key.sharedSecretFromKeyAgreement(with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: peerShare))
        } catch {
            throw ALTSHandshakeError(.keyExchangeFailed)
        }
    }

    private static func recordProtocol(named name: String) throws(ALTSHandshakeError) -> ALTSRecordProtocol {
        guard let known = ALTSRecordProtocol(rawValue: name) else {
            throw ALTSHandshakeError(.noCommonRecordProtocol(offered: [name], supported: ALTSRecordProtocol.allCases.map(\.rawValue)))
        }
        return known
    }

    private static func signatureInput(signer: String, transcriptHash: [UInt8]) -> [UInt8] {
        Array("swift-alts v1 \(signer) CertificateVerify".utf8) + [0] + transcriptHash
    }

    private static func freshRandom() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    private static func decodeAlert(_ message: HandshakeMessage) throws(ALTSHandshakeError) -> ALTSHandshakeAlert {
        guard message.body.count == 1, let alert = ALTSHandshakeAlert(rawValue: message.body.first!) else {
            throw ALTSHandshakeError(.malformedMessage("Alert body is not one known code"))
        }
        return alert
    }

    private static func certificateError(_ error: IdentityError) -> ALTSHandshakeError {
        switch error.kind {
        case .untrustedIssuer(let issuer): return ALTSHandshakeError(.untrustedIssuer(issuer: issuer))
        case .certificateExpired(let notAfter, let now): return ALTSHandshakeError(.certificateExpired(notAfter: notAfter, now: now))
        case .certificateNotYetValid(let notBefore, let now): return ALTSHandshakeError(.certificateNotYetValid(notBefore: notBefore, now: now))
        case .wrongKeyUsage(let detail): return ALTSHandshakeError(.wrongKeyUsage(detail))
        case .notALeafCertificate: return ALTSHandshakeError(.wrongKeyUsage(error.description))
        default: return ALTSHandshakeError(.badCertificate(error.description))
        }
    }
}
