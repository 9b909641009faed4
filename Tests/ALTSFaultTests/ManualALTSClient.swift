import ALTSHandshake
import ALTSIdentity
import ALTSRecord

/// An ALTS client that runs the handshake state machine itself over a `BlockingSocket` and
/// keeps the record keys, so a test can put exact bytes on the wire after a real handshake:
/// half a frame, a forged length, then a reset.
final class ManualALTSClient: @unchecked Sendable {
    let socket: BlockingSocket
    let peerServiceAccount: String
    private let protector: ALTSRecordProtector
    private var inbound: [UInt8]

    init(port: Int, credential: ALTSCredential) throws {
        socket = try BlockingSocket(port: port)
        let handshaker = try ALTSHandshaker(role: .client, credential: credential)
        var step = handshaker.start()
        var lastInput: [UInt8] = []
        while true {
            if !step.outBytes.isEmpty { try socket.write(step.outBytes) }
            switch step.outcome {
            case .inProgress:
                lastInput = try socket.read(timeout: .seconds(10))
                guard !lastInput.isEmpty else { throw BlockingSocket.Failure(description: "server closed during the handshake") }
                step = handshaker.process(lastInput)
            case .failed(let error):
                throw error
            case .completed(var result):
                defer { result.wipeKeyData() }
                protector = try ALTSRecordProtector(
                    recordProtocol: try ALTSRecordProtocol(name: result.recordProtocol), role: .client, keyData: result.keyData)
                peerServiceAccount = result.peer.serviceAccount
                inbound = Array(lastInput[min(step.bytesConsumed, lastInput.count)...])
                return
            }
        }
    }

    /// `plaintext` as the frames a real client would send.
    func seal(_ plaintext: [UInt8]) throws -> [UInt8] {
        try protector.protect(plaintext)
    }

    /// Opens the server's frames until `count` plaintext bytes are in.
    func receive(count: Int, timeout: Duration = .seconds(5)) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var plaintext: [UInt8] = []
        while plaintext.count < count {
            let consumed = try inbound.withUnsafeBytes { (raw) throws(ALTSRecordError) -> Int in
                try protector.unprotect(raw, into: &plaintext)
            }
            inbound.removeFirst(consumed)
            if plaintext.count >= count { break }
            let more = try socket.read(timeout: max(.zero, deadline - ContinuousClock.now))
            guard !more.isEmpty else { throw BlockingSocket.Failure(description: "server closed after \(plaintext.count) of \(count) bytes") }
            inbound += more
        }
        return plaintext
    }
}
