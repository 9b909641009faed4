import Testing
@testable import ALTSRecord

@Suite("Tampering and reflection")
struct TamperTests {
    static let key = (0..<44).map { UInt8(255 - $0) }

    @Test("flipping any one byte of a 3-frame stream fails; the tampered frame and those after it deliver nothing")
    func everyByte() throws {
        let messages = ["first frame", "second", "third, last"].map { Array($0.utf8) }
        let sender = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key)
        let frames = try messages.map { try sender.protect($0) }
        let wire = frames.flatMap { $0 }
        let frameStarts = frames.indices.map { index in frames[..<index].reduce(0) { $0 + $1.count } }
        for position in 0..<wire.count {
            var tampered = wire
            tampered[position] ^= 0x01
            let receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: Self.key)
            var reader = ALTSRecordReader(protector: receiver)
            var delivered: [UInt8] = []
            var failure: ALTSRecordError?
            do {
                delivered = try reader.read(tampered)
                try reader.finish()
            } catch {
                failure = error
            }
            let frame = frameStarts.lastIndex { $0 <= position }!
            let offsetInFrame = position - frameStarts[frame]
            if offsetInFrame < 4 && frame > 0 {
                // A length made longer is indistinguishable from a slow network until the
                // stream ends, so the authentic frames before it may already be delivered.
                #expect(delivered.isEmpty || delivered == messages[..<frame].flatMap { $0 }, "position \(position)")
            } else {
                #expect(delivered.isEmpty, "position \(position) delivered plaintext")
            }
            switch offsetInFrame {
            case 0..<4:
                // Too short, too long, a tag failure, or a stream that ends inside a frame.
                #expect(failure != nil, "position \(position) accepted")
            case 4..<8:
                #expect(failure?.kind == .badMessageType(6 ^ (1 << (8 * UInt32(offsetInFrame - 4)))), "position \(position)")
            default:
                #expect(failure == ALTSRecordError(.authenticationFailed), "position \(position)")
            }
        }
    }

    @Test("a client's frame fed back to a client is rejected (reflection)")
    func reflection() throws {
        let client = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key)
        let frame = try client.protect(Array("reflect me".utf8))
        let otherClient = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key)
        #expect(throws: ALTSRecordError(.authenticationFailed)) { try openAll(otherClient, frame) }
        let server = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: Self.key)
        let serverFrame = try server.protect(Array("reflect me".utf8))
        let otherServer = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: Self.key)
        #expect(throws: ALTSRecordError(.authenticationFailed)) { try openAll(otherServer, serverFrame) }
    }

    @Test("reordered frames fail authentication")
    func reordering() throws {
        let client = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key)
        let first = try client.protect(Array("one".utf8))
        let second = try client.protect(Array("two".utf8))
        let server = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: Self.key)
        #expect(throws: ALTSRecordError(.authenticationFailed)) { try openAll(server, second + first) }
    }

    @Test("a different key fails authentication")
    func wrongKey() throws {
        let client = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key)
        var otherKey = Self.key
        otherKey[43] ^= 1  // only the nonce mask differs
        let server = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: otherKey)
        #expect(throws: ALTSRecordError(.authenticationFailed)) { try openAll(server, client.protect([1, 2, 3])) }
    }
}
