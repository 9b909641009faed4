import ALTSHandshake
@testable import ALTSNIO
import NIOCore
import NIOEmbedded
import Testing

@Suite("HTTP/2 preface deadline")
struct PrefaceDeadlineTests {
    private static let preface = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

    private static func channel(_ start: HTTP2PrefaceDeadlineHandler.Start) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: HTTP2PrefaceDeadlineHandler(timeout: .seconds(10), start: start))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private static var completedEvent: ALTSHandshakeCompletedEvent {
        let result = ALTSHandshakeResult(
            recordProtocol: "ALTSRP_GCM_AES128_REKEY", applicationProtocol: "grpc", keyMaterial: [UInt8](repeating: 0, count: 44), keyLength: 16,
            peer: ALTSPeerIdentity(serviceAccount: "peer@alpha.iam.gserviceaccount.com", attributes: [:]),
            localServiceAccount: "local@alpha.iam.gserviceaccount.com",
            peerRPCVersions: RPCProtocolVersions(max: .init(major: 2, minor: 1), min: .init(major: 2, minor: 1)), peerMaxFrameSize: 0)
        return ALTSHandshakeCompletedEvent(authInfo: ALTSAuthInfo(result: result))
    }

    @Test("nothing, or 23 bytes of the preface, by the deadline: the connection is closed")
    func incompletePrefaceCloses() throws {
        for sent in [0, 23] {
            let channel = try Self.channel(.whenActive)
            if sent > 0 { try channel.writeInbound(Self.preface.getSlice(at: 0, length: sent)!) }
            channel.embeddedEventLoop.advanceTime(by: .seconds(9))
            #expect(channel.isActive)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            #expect(!channel.isActive, "\(sent) bytes")
        }
    }

    @Test("the whole preface, in pieces: the deadline is off and the handler steps aside; the bytes pass unchanged")
    func completePrefacePasses() throws {
        let channel = try Self.channel(.whenActive)
        try channel.writeInbound(Self.preface.getSlice(at: 0, length: 10)!)
        try channel.writeInbound(Self.preface.getSlice(at: 10, length: 14)!)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: HTTP2PrefaceDeadlineHandler.self) }
        var passed = ByteBuffer()
        while var part = try channel.readInbound(as: ByteBuffer.self) { passed.writeBuffer(&part) }
        #expect(passed == Self.preface)
    }

    @Test("behind ALTS the clock starts at the handshake's completion, not at connect")
    func startsAfterHandshake() throws {
        let channel = try Self.channel(.afterALTSHandshake)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))  // a long (separately bounded) handshake
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(Self.completedEvent)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }
}
