import ALTSHandshake
import ALTSNIO
import ALTSTestSupport
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What one accepted connection went through, in order: the errors its pipeline saw, the
/// plaintext it read (and echoed), whether its handshake completed and whether it is closed.
final class ConnectionTrace: Sendable {
    private struct State {
        var errors: [any Error] = []
        var received: [UInt8] = []
        var authenticated: ALTSAuthInfo?
        var closed = false
    }

    private let state = Mutex(State())

    var errors: [any Error] { state.withLock { $0.errors } }
    var received: [UInt8] { state.withLock { $0.received } }
    var authenticated: ALTSAuthInfo? { state.withLock { $0.authenticated } }
    var closed: Bool { state.withLock { $0.closed } }

    fileprivate func record(error: any Error) { state.withLock { $0.errors.append(error) } }
    fileprivate func record(received bytes: ByteBuffer) { state.withLock { $0.received += bytes.readableBytesView } }
    fileprivate func record(authenticated info: ALTSAuthInfo) { state.withLock { $0.authenticated = info } }
    fileprivate func recordClosed() { state.withLock { $0.closed = true } }
}

/// Echoes plaintext back and writes down everything into a `ConnectionTrace`.
private final class TracingEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let trace: ConnectionTrace

    init(trace: ConnectionTrace) { self.trace = trace }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? ALTSHandshakeCompletedEvent { trace.record(authenticated: completed.authInfo) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        trace.record(received: buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        trace.record(error: error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        trace.recordClosed()
    }
}

/// An ALTS echo server on 127.0.0.1 (fresh port) whose handlers log into `logs`: the
/// production handshake and record handlers, as `ALTSServerTransport` installs them.
struct LoopbackALTSServer {
    let channel: any Channel
    let logs = CapturedLogs()
    private let accepted: Accepted

    var port: Int { channel.localAddress!.port! }

    init(group: any EventLoopGroup, handshakers: ALTSHandshakerFactory, configuration: ALTSHandshakeHandler.Configuration = .init()) async throws {
        let logger = logs.logger(label: "server")
        let accepted = Accepted()
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let trace = ConnectionTrace()
                    accepted.append(trace)
                    // The trace records the outcome; the future is not needed.
                    _ = try channel.pipeline.syncOperations.addALTSHandlers(
                        role: .server, factory: handshakers, configuration: configuration, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(TracingEcho(trace: trace))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.accepted = accepted
    }

    /// The `index`th accepted connection, waiting up to 5 s for the accept.
    func connection(_ index: Int) async throws -> ConnectionTrace {
        try await eventually("connection \(index) accepted") { accepted.all.count > index }
        return accepted.all[index]
    }

    private final class Accepted: Sendable {
        private let traces = Mutex<[ConnectionTrace]>([])
        func append(_ trace: ConnectionTrace) { traces.withLock { $0.append(trace) } }
        var all: [ConnectionTrace] { traces.withLock { $0 } }
    }
}
