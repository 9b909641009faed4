import NIOCore
import NIOPosix
import Synchronization

/// Collects everything the peer sends until it closes.
private final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let closed: EventLoopPromise<[UInt8]>
    let greeting: [UInt8]
    private var bytes: [UInt8] = []

    init(greeting: [UInt8], closed: EventLoopPromise<[UInt8]>) {
        self.greeting = greeting
        self.closed = closed
    }

    // Written on activation, not after the connect future resolves: on a loaded machine a
    // server with a short handshake timeout may already have closed by then, and a write
    // failing there would fail the test for the very behaviour it checks.
    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: greeting)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytes += unwrapInboundIn(data).readableBytesView
    }

    func channelInactive(context: ChannelHandlerContext) { closed.succeed(bytes) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A plain TCP client that writes `bytes` and returns what came back before the server closed.
func rawExchange(group: any EventLoopGroup, port: Int, bytes: [UInt8]) async throws -> (reply: [UInt8], channel: any Channel, closed: EventLoopFuture<[UInt8]>) {
    let promise = group.next().makePromise(of: [UInt8].self)
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(greeting: bytes, closed: promise)) }
        }
        .connect(host: "127.0.0.1", port: port).get()
    return ([], channel, promise.futureResult)
}

/// Forwards one direction of a relayed connection, optionally flipping one byte and
/// recording what passed. Holds bytes until the other half is connected.
private final class RelayHalf: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let peer: RelayPeer
    let flipAt: Int?
    let recorder: RelayRecording?
    private var offset = 0

    init(peer: RelayPeer, flipAt: Int?, recorder: RelayRecording?) {
        self.peer = peer
        self.flipAt = flipAt
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let flipAt, flipAt >= offset, flipAt < offset + buffer.readableBytes {
            let index = buffer.readerIndex + flipAt - offset
            buffer.setInteger(buffer.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
        }
        offset += buffer.readableBytes
        recorder?.append(Array(buffer.readableBytesView))
        peer.send(buffer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The other half of a relay: bytes sent before it is connected are queued, then delivered.
final class RelayPeer: Sendable {
    private let state = Mutex<(channel: (any Channel)?, queued: [ByteBuffer], closed: Bool)>((nil, [], false))

    func connect(_ channel: any Channel) {
        let (queued, closed) = state.withLock { state -> ([ByteBuffer], Bool) in
            state.channel = channel
            defer { state.queued = [] }
            return (state.queued, state.closed)
        }
        for buffer in queued { channel.write(buffer, promise: nil) }
        channel.flush()
        if closed { channel.close(promise: nil) }
    }

    func send(_ buffer: ByteBuffer) {
        let channel = state.withLock { state -> (any Channel)? in
            if state.channel == nil { state.queued.append(buffer) }
            return state.channel
        }
        channel?.writeAndFlush(buffer, promise: nil)
    }

    func close() {
        let channel = state.withLock { state -> (any Channel)? in
            state.closed = true
            return state.channel
        }
        channel?.close(promise: nil)
    }
}

final class RelayRecording: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func append(_ more: [UInt8]) { bytes.withLock { $0 += more } }
    var all: [UInt8] { bytes.withLock { $0 } }
}

/// A TCP relay on 127.0.0.1 in front of `upstreamPort` that flips the byte at `flipAt` of the
/// stream in one direction and records the client→server bytes.
struct TamperingRelay {
    let channel: any Channel
    let clientToServer = RelayRecording()
    var port: Int { channel.localAddress!.port! }

    init(group: any EventLoopGroup, upstreamPort: Int, flipAt: Int?, clientToServerDirection: Bool) async throws {
        let recording = clientToServer
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                let toServer = RelayPeer()
                let toClient = RelayPeer()
                toClient.connect(inbound)
                ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in
                        outbound.eventLoop.makeCompletedFuture {
                            try outbound.pipeline.syncOperations.addHandler(
                                RelayHalf(peer: toClient, flipAt: clientToServerDirection ? nil : flipAt, recorder: nil))
                        }
                    }
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .whenComplete { result in
                        switch result {
                        case .success(let outbound): toServer.connect(outbound)
                        case .failure: inbound.close(promise: nil)
                        }
                    }
                return inbound.eventLoop.makeCompletedFuture {
                    try inbound.pipeline.syncOperations.addHandler(
                        RelayHalf(peer: toServer, flipAt: clientToServerDirection ? flipAt : nil, recorder: recording))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}
