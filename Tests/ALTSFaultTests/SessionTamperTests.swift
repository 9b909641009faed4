import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSRecord
import ALTSTestSupport
import NIOCore
import Testing

/// A whole session through the production channel handlers — handshake, the records that
/// arrive with its last message, more records both ways — tampered at every byte position,
/// replayed, and reflected. The handshake and record layers have their own every-byte tests
/// (ALTSHandshakeTests, ALTSRecordTests) with fixed keys and in-memory flights; this one
/// checks the seam: records sealed under keys from a live handshake, in the same read as the
/// final handshake message.
@Suite("Whole-session tampering, replay and reflection")
struct SessionTamperTests {
    private struct Credentials {
        let client: ALTSCredential
        let server: ALTSCredential
        let store: TestCredentials

        init() throws {
            store = try TestCredentials()
            client = try store.credential("alts-client", project: "alpha")
            server = try store.credential("alts-server", project: "alpha")
        }
    }

    private static func sent(_ flow: Flow) -> [[UInt8]] {
        flow == .clientToServer ? EmbeddedSession.clientMessages : EmbeddedSession.serverMessages
    }

    private static func ends(_ session: EmbeddedSession, _ flow: Flow) -> (sender: SessionEndpoint, receiver: SessionEndpoint) {
        flow == .clientToServer ? (session.clientEnd, session.serverEnd) : (session.serverEnd, session.clientEnd)
    }

    /// 24 bytes of header and tag around each message.
    private static func frameSizes(_ flow: Flow) -> [Int] { sent(flow).map { $0.count + 24 } }

    @Test("the untampered session delivers every message both ways", arguments: [Flow.clientToServer, .serverToClient])
    func clean(flow: Flow) throws {
        let credentials = try Credentials()
        let session = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try session.run()
        let (sender, receiver) = Self.ends(session, flow)
        #expect(sender.authenticated && receiver.authenticated)
        #expect(receiver.received == Self.sent(flow).flatMap { $0 })
        #expect(receiver.errors.isEmpty, "\(receiver.errors)")
    }

    @Test("flipping any one byte of a direction never delivers tampered plaintext and always ends the connection with that region's error", arguments: [Flow.clientToServer, .serverToClient])
    func everyByte(flow: Flow) throws {
        let credentials = try Credentials()
        let reference = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try reference.run()
        let handshakeLength = reference.handshakeLengths[flow]!
        let recordBytes = Self.frameSizes(flow).reduce(0, +)
        #expect(reference.streams[flow]!.count == handshakeLength + recordBytes)
        // Whole messages, in order: the only plaintext a receiver may ever deliver.
        let allowed = (0...Self.sent(flow).count).map { Self.sent(flow)[..<$0].flatMap { $0 } }
        var handshakeFlips = 0
        let targets = (0..<handshakeLength + 2).map { FlipTarget.handshake(flow, position: $0) }
            + (0..<recordBytes).map { FlipTarget.record(flow, offset: $0) }
        for target in targets {
            // A position past this run's handshake (a shorter signature) is tried on another run.
            for _ in 0..<20 {
                let session = try EmbeddedSession(client: credentials.client, server: credentials.server, flip: target)
                try session.run()
                guard session.flipped else { continue }
                let receiver = Self.ends(session, flow).receiver
                let label = "\(target)"
                #expect(allowed.contains(receiver.received), "\(label): delivered \(receiver.received)")
                #expect(!receiver.errors.isEmpty, "\(label): accepted")
                switch target {
                case .handshake:
                    handshakeFlips += 1
                    #expect(!receiver.authenticated, "\(label): authenticated a tampered handshake")
                    let first = receiver.errors.first
                    #expect(first is ALTSHandshakeError || first as? ALTSChannelError == ALTSChannelError(.handshakeTimeout(seconds: 10)),
                            "\(label): \(String(describing: first))")
                case .record(_, let offset):
                    checkRecordFlip(flow: flow, offset: offset, receiver: receiver, label: label)
                }
                break
            }
        }
        #expect(handshakeFlips >= handshakeLength - 2, "every handshake byte but those a shorter signature lacks")
    }

    /// A flip at `offset` of the records: frames before it may be delivered, never it or
    /// what follows; the error is the one its field calls for.
    private func checkRecordFlip(flow: Flow, offset: Int, receiver: SessionEndpoint, label: String) {
        var frame = 0, inFrame = offset
        for size in Self.frameSizes(flow) where inFrame >= size {
            inFrame -= size
            frame += 1
        }
        #expect(receiver.authenticated, "\(label)")
        #expect(receiver.received.count <= Self.sent(flow)[..<frame].reduce(0) { $0 + $1.count }, "\(label): delivered from the tampered frame")
        #expect(receiver.errors.count == 1, "\(label): \(receiver.errors)")
        let error = receiver.errors.first as? ALTSRecordError
        switch inFrame {
        case 0..<4:
            // The frames that follow are read out of step: a tag failure, too short, too large,
            // a type that is not 6, or a stream that ends inside the frame.
            #expect(error != nil, "\(label): \(receiver.errors)")
        case 4..<8:
            #expect(error?.kind == .badMessageType(6 ^ (1 << (8 * UInt32(inFrame - 4)))), "\(label)")
        default:
            #expect(error?.kind == .authenticationFailed, "\(label)")
        }
    }

    @Test("the client's recorded stream replayed to a new server: ClientAuth does not decrypt; nothing is delivered")
    func replay() throws {
        let credentials = try Credentials()
        let recorded = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try recorded.run()
        let target = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try target.deliverToServer(recorded.streams[.clientToServer]!)
        #expect(!target.serverEnd.authenticated)
        #expect(target.serverEnd.received == [])
        #expect((target.serverEnd.errors.first as? ALTSHandshakeError)?.kind == .decryptionFailed(message: "ClientAuth"))
    }

    @Test("the server's stream reflected to a server is an unexpected message; a client's records reflected to it fail authentication")
    func reflection() throws {
        let credentials = try Credentials()
        let recorded = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try recorded.run()
        let target = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try target.deliverToServer(recorded.streams[.serverToClient]!)
        #expect((target.serverEnd.errors.first as? ALTSHandshakeError)?.kind == .unexpectedMessage(type: 2, expected: "ClientInit"))

        // A live session whose client then gets its own records back.
        let live = try EmbeddedSession(client: credentials.client, server: credentials.server)
        try live.runKeepingOpen()
        let records = Array(live.streams[.clientToServer]!.suffix(Self.frameSizes(.clientToServer).reduce(0, +)))
        try live.client.writeInbound(ByteBuffer(bytes: records))
        #expect(live.clientEnd.received == EmbeddedSession.serverMessages.flatMap { $0 })
        #expect(live.clientEnd.errors.map { $0 as? ALTSRecordError } == [ALTSRecordError(.authenticationFailed)])
        #expect(!live.client.isActive)
    }
}
