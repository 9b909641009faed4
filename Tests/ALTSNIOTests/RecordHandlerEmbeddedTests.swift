import ALTSNIO
import ALTSRecord
import ALTSTestSupport
import NIOCore
import NIOEmbedded
import Testing

@Suite("ALTSRecordHandler on an EmbeddedChannel")
struct RecordHandlerEmbeddedTests {
    private func channel(role: ALTSRole, leftover: [UInt8] = [], logs: CapturedLogs = CapturedLogs()) throws -> EmbeddedChannel {
        let protector = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: role, keyData: testKey)
        let leftoverBuffer = leftover.isEmpty ? nil : ByteBuffer(bytes: leftover)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ALTSRecordHandler(protector: protector, leftoverBytes: leftoverBuffer, logger: logs.logger()))
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("outbound writes are sealed at flush, small writes sharing one frame")
    func sealsOnFlush() throws {
        let channel = try channel(role: .client)
        let peer = try makePair().server
        channel.write(ByteBuffer(string: "hello "), promise: nil)
        channel.write(ByteBuffer(string: "world"), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.flush()
        let wire = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(wire.readableBytes == 11 + 24)  // one frame
        var reader = ALTSRecordReader(protector: peer)
        #expect(try reader.read(Array(wire.readableBytesView)) == Array("hello world".utf8))
        #expect(try channel.finish().isClean)
    }

    @Test("a write made while a flush completes its promises is sealed once, in order")
    func reentrantFlush() throws {
        let channel = try channel(role: .client)
        let peer = try makePair().server
        // EmbeddedChannel completes write promises inside the flush: the callback re-enters.
        let first = channel.eventLoop.makePromise(of: Void.self)
        first.futureResult.assumeIsolated().whenSuccess {
            channel.write(ByteBuffer(string: " second"), promise: nil)
            channel.flush()
        }
        channel.write(ByteBuffer(string: "first"), promise: first)
        channel.flush()
        // Nothing may be left behind to go out twice.
        channel.flush()
        var reader = ALTSRecordReader(protector: peer)
        var received: [UInt8] = []
        while let wire = try channel.readOutbound(as: ByteBuffer.self) {
            received += try reader.read(Array(wire.readableBytesView))
        }
        #expect(String(decoding: received, as: UTF8.self) == "first second")
        #expect(try channel.finish().isClean)
    }

    @Test("inbound frames become plaintext; a partial frame waits for the rest")
    func opensInbound() throws {
        let channel = try channel(role: .server)
        let peer = try makePair().client
        let wire = try peer.protect(Array("first".utf8)) + peer.protect(Array("second".utf8))
        try channel.writeInbound(ByteBuffer(bytes: wire[0..<30]))
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == "first")
        try channel.writeInbound(ByteBuffer(bytes: wire[30..<40]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: wire[40...]))
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == "second")
        #expect(try channel.finish().isClean)
    }

    @Test("bytes left over from the handshake are opened first")
    func leftoverFirst() throws {
        let peer = try makePair().client
        let leftover = try peer.protect(Array("early".utf8))
        let channel = try channel(role: .server, leftover: leftover)
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == "early")
        try channel.writeInbound(ByteBuffer(bytes: try peer.protect(Array("later".utf8))))
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == "later")
        _ = try channel.finish()
    }

    @Test("a leftover partial frame is completed by the first read")
    func leftoverPartial() throws {
        let peer = try makePair().client
        let frame = try peer.protect(Array("split across the handover".utf8))
        let channel = try channel(role: .server, leftover: Array(frame[0..<10]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: frame[10...]))
        #expect(String(buffer: try #require(try channel.readInbound(as: ByteBuffer.self))) == "split across the handover")
        _ = try channel.finish()
    }

    @Test("a bad frame closes the channel, logs the reason, and fails later writes")
    func errorCloses() throws {
        let logs = CapturedLogs()
        let channel = try channel(role: .server, logs: logs)
        #expect(throws: ALTSRecordError(.badMessageType(7))) {
            try channel.writeInbound(ByteBuffer(bytes: [20, 0, 0, 0, 7, 0, 0, 0]))
        }
        #expect(!channel.isActive)
        let entry = try #require(logs.all.first { $0.level == .error })
        #expect(entry.message == "closing ALTS connection: record protocol error")
        #expect(entry.metadata["error"] == "frame message type 0x7 is not 0x6")
        let write = channel.writeAndFlush(ByteBuffer(string: "too late"))
        #expect(throws: (any Error).self) { try write.wait() }
    }

    @Test("an oversized length is refused from its first 4 bytes")
    func hugeLength() throws {
        let logs = CapturedLogs()
        let channel = try channel(role: .server, logs: logs)
        #expect(throws: ALTSRecordError(.frameTooLarge(length: 0xFFFF_FFFF, limit: 1_048_576))) {
            try channel.writeInbound(ByteBuffer(bytes: [0xff, 0xff, 0xff, 0xff]))
        }
        #expect(!channel.isActive)
        #expect(logs.all.first?.metadata["error"] == "frame length 4294967295 is larger than the limit 1048576")
    }

    @Test("a reflected frame (client to client) closes the channel")
    func reflection() throws {
        let channel = try channel(role: .client)
        let sameRole = try makePair().client
        #expect(throws: ALTSRecordError(.authenticationFailed)) {
            try channel.writeInbound(ByteBuffer(bytes: try sameRole.protect([1, 2, 3])))
        }
        #expect(!channel.isActive)
    }

    @Test("a peer that closes mid-frame is reported as a truncated frame")
    func truncatedOnClose() throws {
        let logs = CapturedLogs()
        let channel = try channel(role: .server, logs: logs)
        let frame = try makePair().client.protect(Array("cut".utf8))
        try channel.writeInbound(ByteBuffer(bytes: frame[0..<12]))
        channel.pipeline.fireChannelInactive()
        #expect(logs.all.first?.metadata["error"] == "stream ended inside a frame (12 bytes buffered)")
    }
}
