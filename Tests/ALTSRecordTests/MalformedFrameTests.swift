import Testing
@testable import ALTSRecord

@Suite("Malformed frames (frames_malformed.json)")
struct MalformedFrameTests {
    /// The error each hostile input must produce, and how much plaintext may come first.
    static let expected: [String: (error: ALTSRecordError, plaintextBefore: String?)] = [
        "M1": (ALTSRecordError(.frameTooShort(length: 4)), nil),
        "M2": (ALTSRecordError(.frameTooShort(length: 0)), nil),
        "M3": (ALTSRecordError(.frameTooLarge(length: 1_048_577, limit: 1_048_576)), nil),
        "M4": (ALTSRecordError(.authenticationFailed), nil),
        "M5": (ALTSRecordError(.badMessageType(0x106)), nil),
        // The first copy opens; the replayed copy fails because the counter moved on.
        "M6": (ALTSRecordError(.authenticationFailed), "Client Message"),
        "M7": (ALTSRecordError(.authenticationFailed), nil),
    ]

    @Test("each hostile input gets its own error", arguments: ["M1", "M2", "M3", "M4", "M5", "M6", "M7"])
    func rejects(id: String) throws {
        let vector = try Vectors.list("frames_malformed").first { $0.string("id") == id }!
        let (error, plaintextBefore) = Self.expected[id]!
        let bytes = vector.hex("bytes")
        let receiver: ALTSRecordProtector
        if vector["key"] != nil {
            let recordProtocol = try ALTSRecordProtocol(name: vector.string("record_protocol"))
            let role: ALTSRole = vector.string("receiver") == "client" ? .client : .server
            receiver = try makeProtector(recordProtocol, role: role, key: vector.hex("key"), inbound: vector.hex("counter"))
        } else {
            receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: [UInt8](repeating: 0, count: 44))
        }
        var reader = ALTSRecordReader(protector: receiver)
        if let plaintextBefore {
            // Feed frame by frame, as a socket would, so the valid first frame is delivered.
            let half = bytes.count / 2
            #expect(try reader.read(bytes[..<half]) == Array(plaintextBefore.utf8))
            #expect(throws: error) { try reader.read(bytes[half...]) }
        } else {
            #expect(throws: error) { _ = try reader.read(bytes); try reader.finish() }
        }
        #expect(receiver.isPoisoned)
        #expect(throws: ALTSRecordError(.poisoned(by: error.kind))) { try reader.read([0]) }
    }

    @Test("an oversized length is refused from its 4 length bytes alone, before buffering")
    func oversizedFromFourBytes() throws {
        let receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: [UInt8](repeating: 0, count: 44))
        var reader = ALTSRecordReader(protector: receiver)
        #expect(try reader.read([0xff, 0xff]) == [])
        #expect(throws: ALTSRecordError(.frameTooLarge(length: 0xFFFF_FFFF, limit: 1_048_576))) {
            try reader.read([0xff, 0xff])
        }
    }

    @Test("a type other than 6 is refused as soon as the 8 header bytes are in")
    func badTypeEarly() throws {
        let receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: [UInt8](repeating: 0, count: 44))
        var reader = ALTSRecordReader(protector: receiver)
        #expect(throws: ALTSRecordError(.badMessageType(0x0600_0000))) {
            try reader.read([0x20, 0, 0, 0, 0, 0, 0, 6])
        }
    }

    @Test("the exact limit is accepted, one more is not")
    func limitBoundary() throws {
        let key = [UInt8](repeating: 1, count: 44)
        let header: (UInt32) -> [UInt8] = { length in withUnsafeBytes(of: length.littleEndian, Array.init) + [6, 0, 0, 0] }
        let atLimit = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: key)
        var reader = ALTSRecordReader(protector: atLimit)
        #expect(try reader.read(header(1_048_576)) == [])
        #expect(reader.bufferedByteCount == 8)
        let over = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: key)
        #expect(throws: ALTSRecordError(.frameTooLarge(length: 1_048_577, limit: 1_048_576))) {
            var reader = ALTSRecordReader(protector: over)
            _ = try reader.read(header(1_048_577))
        }
        let short = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: key)
        #expect(throws: ALTSRecordError(.frameTooShort(length: 19))) {
            var reader = ALTSRecordReader(protector: short)
            _ = try reader.read(header(19))
        }
    }

    @Test("a stream that ends inside a frame is an error")
    func truncated() throws {
        let key = [UInt8](repeating: 1, count: 44)
        let frame = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: key).protect(Array("hello".utf8))
        let receiver = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: key)
        var reader = ALTSRecordReader(protector: receiver)
        #expect(try reader.read(frame.dropLast()) == [])
        #expect(throws: ALTSRecordError(.truncatedFrame(bufferedBytes: frame.count - 1))) { try reader.finish() }
    }

    @Test("error messages name what was wrong")
    func messages() {
        #expect(ALTSRecordError(.frameTooLarge(length: 1_048_577, limit: 1_048_576)).description
            == "frame length 1048577 is larger than the limit 1048576")
        #expect(ALTSRecordError(.frameTooShort(length: 4)).description
            == "frame length 4 is shorter than the 20 bytes of type and tag")
        #expect(ALTSRecordError(.badMessageType(0x106)).description == "frame message type 0x106 is not 0x6")
        #expect(ALTSRecordError(.poisoned(by: .authenticationFailed)).description
            == "record protector unusable after an earlier error: frame authentication failed (tampered, replayed, reordered or reflected)")
    }
}
