import ALTSNIO
import ALTSRecord
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A gRPC server transport that accepts TCP (or Unix socket) connections, authenticates each
/// with an ALTS handshake and serves HTTP/2 over the ALTS record protocol.
///
/// RPC handlers read the connection's identity with `context.altsAuthInfo`.
///
/// Built on grpc-swift-nio-transport's `HTTP2ServerTransport.Custom`: this type supplies the
/// listener (bootstrap, ALTS handlers under the gRPC pipeline) and attaches AuthInfo to each
/// RPC's context. A connection whose handshake fails is closed and logged; the server carries on.
public final class ALTSServerTransport: ServerTransport {
    public typealias Bytes = GRPCNIOTransportBytes

    public struct Config: Sendable {
        /// gRPC's own HTTP/2, compression and RPC settings.
        public var grpc: HTTP2ServerTransport.Custom<ALTSListenerFactory>.Config = .defaults
        public var handshake: ALTSHandshakeHandler.Configuration = .init()
        /// How long an authenticated peer has, after the handshake, to send the HTTP/2 client
        /// preface; then the connection is closed.
        public var prefaceTimeout: TimeAmount = .seconds(10)

        public init() {}
    }

    private let inner: HTTP2ServerTransport.Custom<ALTSListenerFactory>
    private let registry: ALTSConnectionRegistry
    private let factory: ALTSListenerFactory

    /// - Parameters:
    ///   - address: where to listen, e.g. `.host("0.0.0.0", port: 50051)`.
    ///   - handshakers: how each connection's handshake is run (in-process credentials, or a
    ///     handshaker service).
    public init(
        address: ALTSAddress, handshakers: ALTSHandshakerFactory, config: Config = Config(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "swift-alts.server")
    ) {
        let registry = ALTSConnectionRegistry()
        let factory = ALTSListenerFactory(
            eventLoopGroup: eventLoopGroup, address: address, handshakers: handshakers,
            handshakeConfiguration: config.handshake, prefaceTimeout: config.prefaceTimeout, registry: registry, logger: logger)
        self.registry = registry
        self.factory = factory
        self.inner = HTTP2ServerTransport.Custom(listenerFactory: factory, config: config.grpc)
    }

    /// The address the server is bound to, once it is listening (port 0 resolved).
    public var listeningAddress: NIOCore.SocketAddress {
        get async throws { try await factory.boundAddress.get() }
    }

    /// Live ALTS connections whose handshake succeeded.
    public var authenticatedConnectionCount: Int { registry.count }

    public func configure(context: GRPCServerContext) {
        inner.configure(context: context)
    }

    public func listen(
        streamHandler: @escaping @Sendable (_ stream: RPCStream<Inbound, Outbound>, _ context: ServerContext) async -> Void
    ) async throws {
        let registry = self.registry
        try await inner.listen { stream, context in
            var context = context
            if let info = registry.authInfo(remotePeer: context.remotePeer, localPeer: context.localPeer) {
                context.transportSpecific = ALTSServerTransportContext(authInfo: info)
            }
            await streamHandler(stream, context)
        }
    }

    public func beginGracefulShutdown() {
        inner.beginGracefulShutdown()
    }
}

/// Binds the listening socket and puts the ALTS handshake under each accepted connection's
/// gRPC pipeline.
public struct ALTSListenerFactory: HTTP2ServerTransport.ListenerFactory {
    public let eventLoopGroup: any EventLoopGroup
    let address: ALTSAddress
    let handshakers: ALTSHandshakerFactory
    let handshakeConfiguration: ALTSHandshakeHandler.Configuration
    let prefaceTimeout: TimeAmount
    let registry: ALTSConnectionRegistry
    let logger: Logger
    let boundAddress: EventLoopFuture<NIOCore.SocketAddress>
    private let bound: EventLoopPromise<NIOCore.SocketAddress>

    init(
        eventLoopGroup: any EventLoopGroup, address: ALTSAddress, handshakers: ALTSHandshakerFactory,
        handshakeConfiguration: ALTSHandshakeHandler.Configuration, prefaceTimeout: TimeAmount, registry: ALTSConnectionRegistry, logger: Logger
    ) {
        self.eventLoopGroup = eventLoopGroup
        self.address = address
        self.handshakers = handshakers
        self.handshakeConfiguration = handshakeConfiguration
        self.prefaceTimeout = prefaceTimeout
        self.registry = registry
        self.logger = logger
        self.bound = eventLoopGroup.any().makePromise()
        self.boundAddress = bound.futureResult
    }

    public func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let handshakers = self.handshakers
        let configuration = self.handshakeConfiguration
        let registry = self.registry
        let logger = self.logger
        let prefaceTimeout = self.prefaceTimeout
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .serverChannelInitializer { channel in listenerConfigurator.configure(channel: channel) }
        let childInitializer: @Sendable (any Channel) -> EventLoopFuture<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let outcome = try channel.pipeline.syncOperations.addALTSHandlers(
                    role: .server, factory: handshakers, configuration: configuration, logger: logger)
                // A failed handshake is logged by the handshake handler and closes only this connection.
                outcome.whenFailure { _ in }
                try channel.pipeline.syncOperations.addHandler(ALTSConnectionRegistrar(registry: registry))
                try channel.pipeline.syncOperations.addHandler(HTTP2PrefaceDeadlineHandler(timeout: prefaceTimeout, start: .afterALTSHandshake))
            }.flatMap {
                connectionConfigurator.configure(channel: channel, tls: .none)
            }
        }
        let listener: NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never>
        do {
            switch address {
            case .unixDomainSocket(let path):
                listener = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: childInitializer)
            case .host(let host, let port):
                listener = try await bootstrap.bind(host: host, port: port, childChannelInitializer: childInitializer)
            }
        } catch {
            bound.fail(error)
            throw error
        }
        if let local = listener.channel.localAddress {
            bound.succeed(local)
        } else {
            bound.fail(ChannelError.unknownLocalAddress)
        }
        return listener
    }
}
