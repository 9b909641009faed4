import ALTSNIO
import GRPCCore
import NIOCore
import NIOHTTP2
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP/2 connections to one handshaker service: one per event loop that hands over
/// handshakes, so that a handshake's `DoHandshake` stream runs on the thread of the connection
/// it secures and no message crosses threads. A connection that closes, fails to open or is
/// told GOAWAY is dropped; the next stream opens a new one, so a restarted service is picked
/// up by the next handshake and a service that is down fails it at once.
final class HandshakerServiceConnections: Sendable {
    let address: ALTSAddress
    let authority: String
    private let state = Mutex(State())
    private static let shutDownError = HandshakerServiceUnavailable(reason: "the handshaker service client is shut down")

    private struct State {
        var byLoop: [ObjectIdentifier: Connection] = [:]
        var nextID = 0
        var shutDown = false
    }

    private struct Connection {
        let id: Int
        let multiplexer: EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer>
        var channel: (any Channel)?
    }

    init(address: ALTSAddress) {
        self.address = address
        switch address {
        case .host: authority = address.description
        case .unixDomainSocket: authority = "localhost"
        }
    }

    /// A new stream on `loop`'s connection, with `handler` as its only handler.
    func openStream(on loop: any EventLoop, handler: DoHandshakeStream) -> EventLoopFuture<any Channel> {
        let boundHandler = NIOLoopBound(handler, eventLoop: loop)
        return connection(on: loop).flatMap { multiplexer in
            multiplexer.createStreamChannel { stream in
                stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(boundHandler.value) }
            }
        }
    }

    func shutdown() {
        let channels = state.withLock { state -> [any Channel] in
            state.shutDown = true
            defer { state.byLoop = [:] }
            return state.byLoop.values.compactMap(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    private func connection(on loop: any EventLoop) -> EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer> {
        let key = ObjectIdentifier(loop)
        let multiplexer = loop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
        enum Decision {
            case shutDown
            case reuse(EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer>)
            case connect(id: Int)
        }
        let decision = state.withLock { state -> Decision in
            if state.shutDown { return .shutDown }
            // A closed connection is normally forgotten by its close callback; checked here too,
            // so that a loop shut down and replaced at the same address never inherits it.
            if let existing = state.byLoop[key], existing.channel?.isActive ?? true { return .reuse(existing.multiplexer) }
            state.nextID += 1
            state.byLoop[key] = Connection(id: state.nextID, multiplexer: multiplexer.futureResult)
            return .connect(id: state.nextID)
        }
        switch decision {
        case .shutDown:
            multiplexer.fail(Self.shutDownError)
        case .reuse(let existing):
            multiplexer.completeWith(existing)
        case .connect(let id):
            connect(on: loop, id: id, key: key, multiplexer: multiplexer)
        }
        return multiplexer.futureResult
    }

    private func connect(on loop: any EventLoop, id: Int, key: ObjectIdentifier, multiplexer: EventLoopPromise<NIOHTTP2Handler.StreamMultiplexer>) {
        let forget: @Sendable () -> Void = { [weak self] in
            self?.state.withLock { state in
                if state.byLoop[key]?.id == id { state.byLoop[key] = nil }
            }
        }
        guard let socketBootstrap = ClientBootstrap(validatingGroup: loop) else {
            forget()
            multiplexer.fail(HandshakerServiceUnavailable(reason: "this event loop cannot open sockets"))
            return
        }
        let bootstrap = socketBootstrap
            .connectTimeout(.seconds(5))  // the service is local: a loopback, link-local or Unix socket
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    _ = try sync.configureHTTP2Pipeline(mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
                        // The service may not open streams towards us.
                        stream.close()
                    }
                    try sync.addHandler(GoAwayWatcher(onGoAway: forget))
                }
            }
        let connecting: EventLoopFuture<any Channel>
        switch address {
        case .host(let host, let port): connecting = bootstrap.connect(host: host, port: port)
        case .unixDomainSocket(let path): connecting = bootstrap.connect(unixDomainSocketPath: path)
        }
        let connected = connecting.flatMapThrowing { channel in
            (channel, try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer())
        }
        let address = self.address
        connected.whenComplete { [weak self] result in
            switch result {
            case .success(let (channel, streams)):
                // A connection that completes after shutdown() is not kept.
                let kept = self?.state.withLock { state -> Bool in
                    guard !state.shutDown else { return false }
                    if state.byLoop[key]?.id == id { state.byLoop[key]?.channel = channel }
                    return true
                } ?? false
                guard kept else {
                    channel.close(promise: nil)
                    multiplexer.fail(Self.shutDownError)
                    return
                }
                channel.closeFuture.whenComplete { _ in forget() }
                multiplexer.succeed(streams)
            case .failure(let error):
                forget()
                multiplexer.fail(HandshakerServiceUnavailable(reason: "cannot connect to the handshaker service at \(address): \(Self.connectFailure(error))"))
            }
        }
    }
}

extension HandshakerServiceConnections {
    /// Why a connect failed, in the words an operator looks for.
    static func connectFailure(_ error: any Error) -> String {
        var underlying = error
        if let connection = error as? NIOConnectionError {
            guard let first = connection.connectionErrors.first?.error else {
                return connection.dnsAError != nil || connection.dnsAAAAError != nil ? "cannot resolve '\(connection.host)'" : "\(error)"
            }
            underlying = first
        }
        if let io = underlying as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ENOENT: return "no such socket"
            case EACCES: return "permission denied"
            default: return "\(io)"
            }
        }
        if case ChannelError.connectTimeout(let amount)? = underlying as? ChannelError {
            return "timed out after \(amount.nanoseconds / 1_000_000_000)s"
        }
        return "\(underlying)"
    }
}

/// Drops a connection from the pool once the service says GOAWAY: streams already open finish
/// on it, new ones get a new connection.
private final class GoAwayWatcher: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    private let onGoAway: @Sendable () -> Void

    init(onGoAway: @escaping @Sendable () -> Void) {
        self.onGoAway = onGoAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload { onGoAway() }
        context.fireChannelRead(data)
    }
}

/// The handshaker service cannot be reached, or the stream to it ended early; what the
/// handshake reports as "ALTS handshaker unavailable: …", in gRPC's status wording.
struct HandshakerServiceUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { RPCError(code: .unavailable, message: reason).description }
}
