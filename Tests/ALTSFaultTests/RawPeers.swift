import NIOCore
import NIOPosix
import Synchronization

/// A TCP listener that accepts, records what each connection sends and never answers: a peer
/// whose handshake reply never comes.
final class SilentListener: Sendable {
    let channel: any Channel
    private let recording: Recording

    var port: Int { channel.localAddress!.port! }
    var received: [UInt8] { recording.state.withLock { $0.received } }
    /// Connections the other side has closed.
    var closed: Int { recording.state.withLock { $0.closed } }

    init(group: any EventLoopGroup) async throws {
        let recording = Recording()
        self.recording = recording
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Recorder(recording: recording)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    private final class Recording: Sendable {
        let state = Mutex<(received: [UInt8], closed: Int)>(([], 0))
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let recording: Recording
        init(recording: Recording) { self.recording = recording }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            recording.state.withLock { $0.received += bytes.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            recording.state.withLock { $0.closed += 1 }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}

/// Sends `bytes` one at a time, `interval` apart, and notes when the server closed on it: a
/// slowloris that is always making progress, never finishing.
final class Dribbler: Sendable {
    let channel: any Channel
    /// When the server closed the connection.
    let closed: EventLoopFuture<ContinuousClock.Instant>
    private let sentCount = Counter()

    var sent: Int { sentCount.value.load(ordering: .relaxed) }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    init(group: any EventLoopGroup, port: Int, bytes: [UInt8], interval: TimeAmount) async throws {
        let promise = group.next().makePromise(of: ContinuousClock.Instant.self)
        closed = promise.futureResult
        let sentCount = self.sentCount
        channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Drip(bytes: bytes, interval: interval, sent: { sentCount.value.add(1, ordering: .relaxed) }, closed: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    private final class Drip: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let bytes: [UInt8]
        let interval: TimeAmount
        let sent: @Sendable () -> Void
        let closed: EventLoopPromise<ContinuousClock.Instant>
        private var next = 0
        private var task: RepeatedTask?

        init(bytes: [UInt8], interval: TimeAmount, sent: @escaping @Sendable () -> Void, closed: EventLoopPromise<ContinuousClock.Instant>) {
            self.bytes = bytes
            self.interval = interval
            self.sent = sent
            self.closed = closed
        }

        func channelActive(context: ChannelHandlerContext) {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            task = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
                let (drip, context) = loopBound.value
                guard drip.next < drip.bytes.count else { task.cancel(); return }
                context.writeAndFlush(drip.wrapOutboundOut(ByteBuffer(bytes: [drip.bytes[drip.next]])), promise: nil)
                drip.next += 1
                drip.sent()
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        func channelInactive(context: ChannelHandlerContext) {
            task?.cancel()
            closed.succeed(.now)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
