import Testing
@testable import ALTSRecord

@Suite("Round trips and sizing")
struct RoundTripTests {
    static let key44 = (0..<44).map { UInt8($0) }

    private func pair(_ recordProtocol: ALTSRecordProtocol = .aes128GCMRekey, maxSendFrameLength: Int = 16_384) throws -> (ALTSRecordProtector, ALTSRecordProtector) {
        (try ALTSRecordProtector(recordProtocol: recordProtocol, role: .client, keyData: Self.key44, maxSendFrameLength: maxSendFrameLength),
         try ALTSRecordProtector(recordProtocol: recordProtocol, role: .server, keyData: Self.key44, maxSendFrameLength: maxSendFrameLength))
    }

    @Test("random chunking from 1-byte to 64 KiB reads", arguments: [1, 7, 100, 4_096, 16_407, 65_536])
    func chunking(maxChunk: Int) throws {
        var rng = SplitMix64(seed: UInt64(maxChunk))
        let (client, server) = try pair()
        var messages: [[UInt8]] = []
        var wire: [UInt8] = []
        for _ in 0..<40 {
            let message = randomBytes(Int.random(in: 0...40_000, using: &rng), using: &rng)
            messages.append(message)
            wire += try client.protect(message)
        }
        var reader = ALTSRecordReader(protector: server)
        var received: [UInt8] = []
        var offset = 0
        while offset < wire.count {
            let chunk = min(Int.random(in: 1...maxChunk, using: &rng), wire.count - offset)
            received += try reader.read(wire[offset..<(offset + chunk)])
            offset += chunk
        }
        try reader.finish()
        #expect(received == messages.flatMap { $0 })
    }

    @Test("many frames in one read, including empty-plaintext frames")
    func manyFramesOneRead() throws {
        let (client, server) = try pair()
        var wire: [UInt8] = []
        for size in [0, 1, 0, 16_364, 16_365, 0, 33] {
            wire += try client.protect([UInt8](repeating: UInt8(size % 251), count: size))
        }
        var plaintext: [UInt8] = []
        let consumed = try wire.withUnsafeBytes { try server.unprotect($0, into: &plaintext) }
        #expect(consumed == wire.count)
        #expect(plaintext.count == 1 + 16_364 + 16_365 + 33)
    }

    @Test("an empty plaintext is one 24-byte frame")
    func emptyFrame() throws {
        let (client, server) = try pair()
        let frame = try client.protect([])
        #expect(frame.count == 24)
        #expect(Array(frame[0..<8]) == [20, 0, 0, 0, 6, 0, 0, 0])
        #expect(try openAll(server, frame) == [])
    }

    @Test("seal splits at the frame limit: length fields never exceed it", arguments: [1_024, 16_384, 1_048_572])
    func splitting(limit: Int) throws {
        let (client, _) = try pair(maxSendFrameLength: limit)
        let payload = [UInt8](repeating: 0x5a, count: 3 * (limit - 20) + 5)
        let wire = try client.protect(payload)
        var lengths: [Int] = []
        var offset = 0
        while offset < wire.count {
            let length = Int(wire[offset]) | Int(wire[offset + 1]) << 8 | Int(wire[offset + 2]) << 16 | Int(wire[offset + 3]) << 24
            lengths.append(length)
            offset += 4 + length
        }
        #expect(lengths == [limit, limit, limit, 25])
        #expect(wire.count == client.protectedSize(plaintextCount: payload.count))
    }

    @Test("REKEY across the 2^16-record key change, both directions")
    func rekeyBoundary() throws {
        let (client, server) = try pair()
        var clientReader = ALTSRecordReader(protector: client)
        var serverReader = ALTSRecordReader(protector: server)
        for index in 0..<65_540 {
            let message: [UInt8] = [UInt8(index & 0xff), UInt8(index >> 8 & 0xff)]
            #expect(try serverReader.read(client.protect(message)) == message)
            if index % 1_000 == 0 || index >= 65_530 {
                #expect(try clientReader.read(server.protect(message)) == message)
            }
        }
    }

    @Test("send-size negotiation follows FACTS §1.3")
    func negotiation() {
        #expect(ALTSFrameSizing.sendFrameLength(peerMaxFrameSize: 0) == 16_384)  // grpc-go peer
        #expect(ALTSFrameSizing.sendFrameLength(peerMaxFrameSize: 4_096) == 16_384)  // floor
        #expect(ALTSFrameSizing.sendFrameLength(peerMaxFrameSize: 131_072) == 131_072)
        #expect(ALTSFrameSizing.sendFrameLength(peerMaxFrameSize: 1_048_576) == 1_048_572)  // grpc-java's ceiling
        #expect(ALTSFrameSizing.sendFrameLength(peerMaxFrameSize: 16_777_216) == 1_048_572)
        #expect(ALTSFrameSizing.sendFrameLength(peerMaxFrameSize: 1_048_576, localMaxFrameSize: 65_536) == 65_536)
    }

    @Test("frame limits outside the allowed ranges are refused")
    func badLimits() {
        #expect(throws: ALTSRecordError(.invalidFrameLength(name: "max send frame length", value: 1_048_576, allowed: 1_024...1_048_572))) {
            try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key44, maxSendFrameLength: 1_048_576)
        }
        #expect(throws: ALTSRecordError(.invalidFrameLength(name: "receive limit", value: 100, allowed: 16_384...16_777_216))) {
            try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: Self.key44, receiveLimit: 100)
        }
    }

    @Test("ALTSRP_GCM_AES128 round trip")
    func plainProtocol() throws {
        let (client, server) = try pair(.aes128GCM)
        let message = Array("plain protocol".utf8)
        #expect(try openAll(server, client.protect(message)) == message)
        #expect(try openAll(client, server.protect(message)) == message)
    }

    @Test("a preallocated output buffer is filled in place and reusable")
    func preallocated() throws {
        let (client, server) = try pair()
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
        defer { storage.deallocate() }
        let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 16)
        defer { plain.deallocate() }
        var sealed = ALTSPreallocatedBuffer(storage: storage)
        var opened = ALTSPreallocatedBuffer(storage: plain)
        let message = [UInt8](repeating: 0x42, count: 50_000)
        for _ in 0..<3 {
            sealed.reset()
            opened.reset()
            try message.withUnsafeBytes { try client.protect($0, into: &sealed) }
            #expect(sealed.count == client.protectedSize(plaintextCount: 50_000))
            #expect(try server.unprotect(sealed.bytes, into: &opened) == sealed.count)
            #expect(Array(opened.bytes) == message)
        }
    }
}
