import ALTSNIO
import ALTSRecord
import NIOCore
import NIOPosix
import Testing

/// Hashes what arrives, optionally echoes it back, and completes once `expected` bytes are in.
private final class DigestingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let expected: Int
    private let echo: Bool
    private let done: EventLoopPromise<[UInt8]>
    private let digest = SHA256Digest()
    private var received = 0

    init(expected: Int, echo: Bool, done: EventLoopPromise<[UInt8]>) {
        self.expected = expected
        self.echo = echo
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        digest.update(buffer)
        received += buffer.readableBytes
        if echo {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        if received == expected {
            done.succeed(digest.finish())
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if echo { context.flush() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.eof)
    }
}

@Suite("ALTSRecordHandler over loopback TCP")
struct RecordHandlerSocketTests {
    @Test("64 MiB to an echoing server and back, SHA-256 equal at both ends")
    func sixtyFourMiB() async throws {
        let total = 64 << 20
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let serverReceived = group.next().makePromise(of: [UInt8].self)
        let clientReceived = group.next().makePromise(of: [UInt8].self)

        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ALTSRecordHandler(protector: try makePair().server),
                        DigestingHandler(expected: total, echo: true, done: serverReceived),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ALTSRecordHandler(protector: try makePair().client),
                        DigestingHandler(expected: total, echo: false, done: clientReceived),
                    ])
                }
            }
            .connect(to: server.localAddress!).get()

        let sentDigest = SHA256Digest()
        var state: UInt64 = 0x5eed
        var sent = 0
        while sent < total {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let size = min(Int(state >> 40) % 200_000 + 1, total - sent)
            var chunk = ByteBuffer()
            chunk.writeRepeatingByte(UInt8(truncatingIfNeeded: state >> 56), count: size)
            if size >= 8 { chunk.setInteger(state, at: 0, endianness: .little, as: UInt64.self) }
            sentDigest.update(chunk)
            try await client.writeAndFlush(chunk)
            sent += size
        }
        let expected = sentDigest.finish()
        #expect(try await serverReceived.futureResult.get() == expected)
        #expect(try await clientReceived.futureResult.get() == expected)
        try await client.close()
        try await server.close()
        try await group.shutdownGracefully()
    }
}
