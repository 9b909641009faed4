import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSRecord
import ALTSTestSupport
import NIOCore
import NIOPosix
import Synchronization

/// What one end of a connection saw: its AuthInfo, or the error that ended it, and (for a
/// client) the echo of what it sent.
final class ConnectionProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let authenticated: EventLoopPromise<ALTSAuthInfo>
    let echoed: EventLoopPromise<String>
    private let echo: Bool
    private let greeting: String?
    private var received = ""

    init(eventLoop: any EventLoop, echo: Bool, greeting: String? = nil) {
        authenticated = eventLoop.makePromise()
        echoed = eventLoop.makePromise()
        self.echo = echo
        self.greeting = greeting
    }

    func channelActive(context: ChannelHandlerContext) {
        // Written before the handshake finishes: the handshake handler must hold it.
        if let greeting {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil)
        }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? ALTSHandshakeCompletedEvent {
            authenticated.succeed(completed.authInfo)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if echo {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            received += String(buffer: buffer)
            if let greeting, received.count >= greeting.count { echoed.succeed(received) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        authenticated.fail(error)
        echoed.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        authenticated.fail(ChannelError.eof)
        echoed.fail(ChannelError.eof)
    }

    /// Runs on every teardown, including a channel that never became active.
    func handlerRemoved(context: ChannelHandlerContext) {
        authenticated.fail(ChannelError.eof)
        echoed.fail(ChannelError.eof)
    }
}

/// The AuthInfo futures of the connections a server accepted, in order.
final class AcceptedConnections: Sendable {
    private let futures = Mutex<[EventLoopFuture<ALTSAuthInfo>]>([])

    func append(_ future: EventLoopFuture<ALTSAuthInfo>) { futures.withLock { $0.append(future) } }
    var all: [EventLoopFuture<ALTSAuthInfo>] { futures.withLock { $0 } }

    /// The `index`th accepted connection, waiting (up to 5 s) for the accept to happen.
    func connection(_ index: Int) async throws -> EventLoopFuture<ALTSAuthInfo> {
        for _ in 0..<500 {
            if let future = futures.withLock({ $0.count > index ? $0[index] : nil }) { return future }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ChannelError.connectTimeout(.seconds(5))
    }
}

/// An ALTS echo server on 127.0.0.1 with a fresh port, recording each accepted connection.
struct ALTSEchoServer {
    let channel: any Channel
    let accepted = AcceptedConnections()

    var port: Int { channel.localAddress!.port! }

    init(
        group: any EventLoopGroup, credential: ALTSCredential, options: ALTSHandshakeOptions = ALTSHandshakeOptions(),
        configuration: ALTSHandshakeHandler.Configuration = .init(), logs: CapturedLogs = CapturedLogs()
    ) async throws {
        let accepted = self.accepted
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 512)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let driver = ALTSInProcessHandshakeDriver(
                        handshaker: try ALTSHandshaker(role: .server, credential: credential, options: options))
                    let probe = ConnectionProbe(eventLoop: channel.eventLoop, echo: true)
                    accepted.append(probe.authenticated.futureResult)
                    try channel.pipeline.syncOperations.addHandlers([
                        ALTSHandshakeHandler(role: .server, driver: driver, configuration: configuration, logger: logs.logger()),
                        probe,
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}

/// Connects an ALTS client that sends `greeting` (before the handshake ends) and expects it back.
func connectALTSClient(
    group: any EventLoopGroup, port: Int, credential: ALTSCredential, options: ALTSHandshakeOptions = ALTSHandshakeOptions(),
    configuration: ALTSHandshakeHandler.Configuration = .init(), greeting: String = "hello over ALTS",
    logs: CapturedLogs = CapturedLogs()
) async throws -> (channel: any Channel, authenticated: EventLoopFuture<ALTSAuthInfo>, echoed: EventLoopFuture<String>) {
    let futures = Mutex<(EventLoopFuture<ALTSAuthInfo>, EventLoopFuture<String>)?>(nil)
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let driver = ALTSInProcessHandshakeDriver(
                    handshaker: try ALTSHandshaker(role: .client, credential: credential, options: options))
                let probe = ConnectionProbe(eventLoop: channel.eventLoop, echo: false, greeting: greeting)
                futures.withLock { $0 = (probe.authenticated.futureResult, probe.echoed.futureResult) }
                try channel.pipeline.syncOperations.addHandlers([
                    ALTSHandshakeHandler(role: .client, driver: driver, configuration: configuration, logger: logs.logger()),
                    probe,
                ])
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    let (authenticated, echoed) = futures.withLock { $0! }
    return (channel, authenticated, echoed)
}

/// Waits for a future's outcome, turning failure into a value.
func outcome<T: Sendable>(_ future: EventLoopFuture<T>) async -> Result<T, any Error> {
    do { return .success(try await future.get()) } catch { return .failure(error) }
}
