import ALTSNIO
import ALTSRecord
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A gRPC client transport over one ALTS connection.
///
/// `connect(to:handshakers:)` dials, runs the handshake and returns only once the server is
/// authenticated, so a refused connection, a timeout or a handshake failure (for example a
/// server outside the target service accounts) is thrown from there with its own error, and
/// `authInfo` names both ends before the first RPC.
///
/// Limits, inherited from grpc-swift-nio-transport's `WrappedChannel`: one connection, no
/// reconnects (once it closes, RPCs fail with `unavailable`; make a new transport), and no load
/// balancing across addresses.
public final class ALTSClientTransport: ClientTransport {
    public typealias Bytes = GRPCNIOTransportBytes

    public struct Config: Sendable {
        public var grpc: HTTP2ClientTransport.WrappedChannel.Config = .defaults
        public var handshake: ALTSHandshakeHandler.Configuration = .init()
        public var connectTimeout: TimeAmount = .seconds(10)

        public init() {}
    }

    private let inner: HTTP2ClientTransport.WrappedChannel
    private let errors: ALTSConnectionErrorRecord
    /// Who the server is, and who we are, as the handshake established.
    public let authInfo: ALTSAuthInfo

    private init(inner: HTTP2ClientTransport.WrappedChannel, authInfo: ALTSAuthInfo, errors: ALTSConnectionErrorRecord) {
        self.inner = inner
        self.authInfo = authInfo
        self.errors = errors
    }

    /// What ended the connection, when something did: RPCs then fail with a bare
    /// `unavailable`, and this says why (for example the server's handshake alert after it
    /// refused our certificate, or a record-layer error).
    public var connectionError: (any Error)? { errors.error }

    /// Connects to `address` and authenticates the server. Throws `ALTSHandshakeError` (target
    /// mismatch, untrusted or expired certificate…), `ALTSChannelError` (handshake timeout,
    /// closed during the handshake) or the socket's error (connection refused, connect timeout).
    public static func connect(
        to address: ALTSAddress, handshakers: ALTSHandshakerFactory, config: Config = Config(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "swift-alts.client")
    ) async throws -> ALTSClientTransport {
        let handshake = Mutex<EventLoopFuture<ALTSAuthInfo>?>(nil)
        let errors = ALTSConnectionErrorRecord()
        let authInfo = Mutex<ALTSAuthInfo?>(nil)
        var grpcConfig = config.grpc
        if grpcConfig.http2.authority == nil {
            // Without it no `:authority` is sent, and grpcio servers reset every stream.
            grpcConfig.http2.authority = Self.authority(for: address)
        }
        let inner = try await HTTP2ClientTransport.WrappedChannel.wrapping(config: grpcConfig) { configure in
            let bootstrap = ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(config.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
            let initializer: @Sendable (any Channel) -> EventLoopFuture<HTTP2ClientTransport.WrappedChannel.ConfiguredChannel> = { channel in
                channel.eventLoop.makeCompletedFuture {
                    let outcome = try channel.pipeline.syncOperations.addALTSHandlers(
                        role: .client, factory: handshakers, configuration: config.handshake, logger: logger, errors: errors)
                    handshake.withLock { $0 = outcome }
                }.flatMap { configure(channel) }
            }
            let configured: HTTP2ClientTransport.WrappedChannel.ConfiguredChannel
            switch address {
            case .host(let host, let port):
                configured = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            case .unixDomainSocket(let path):
                configured = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            }
            do {
                let info = try await handshake.withLock { $0! }.get()
                authInfo.withLock { $0 = info }
                return configured
            } catch {
                // The transport never took ownership; the channel is ours to close.
                try? await configured.channel.close()
                throw error
            }
        }
        return ALTSClientTransport(inner: inner, authInfo: authInfo.withLock { $0! }, errors: errors)
    }

    /// The `:authority` gRPC sends for `address`, as grpc-swift's own transports derive it.
    static func authority(for address: ALTSAddress) -> String {
        if case .unixDomainSocket = address { return "localhost" }
        return address.description
    }

    public var retryThrottle: RetryThrottle? { inner.retryThrottle }

    public func connect() async throws {
        try await inner.connect()
    }

    public func beginGracefulShutdown() {
        inner.beginGracefulShutdown()
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        try await inner.withStream(descriptor: descriptor, options: options, closure)
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        inner.config(forMethod: descriptor)
    }
}
