import ALTSNIO
import ALTSProxyConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A running alts-proxy: every listener of a validated bootstrap, its admin endpoint, and
/// the upstream pools behind them.
public final class ALTSProxyServer: Sendable {
    public struct BoundListener: Sendable, Equatable {
        public let name: String
        public let address: SocketAddress
    }

    public let bootstrap: ProxyBootstrap
    public let stats = ProxyStats()
    private let group: any EventLoopGroup
    private let sockets: ALTSTransportSockets
    private let logger: Logger
    private let handshakeTimeout: TimeAmount
    private let state = Mutex<(channels: [any Channel], pools: ClusterPools?, ready: Bool)>(([], nil, false))

    public init(bootstrap: ProxyBootstrap, handshakes: ProxyHandshakeSource, group: any EventLoopGroup, logger: Logger, handshakeTimeout: TimeAmount = .seconds(10)) {
        self.bootstrap = bootstrap
        self.group = group
        self.sockets = ALTSTransportSockets(source: handshakes)
        self.logger = logger
        self.handshakeTimeout = handshakeTimeout
    }

    /// Binds every listener (then the admin endpoint). A port of 0 gets an ephemeral port;
    /// the returned addresses say which.
    public func start() async throws -> (listeners: [BoundListener], admin: SocketAddress?) {
        let pools = try ClusterPools(clusters: bootstrap.clusters, group: group, sockets: sockets, stats: stats, logger: logger)
        state.withLock { $0.pools = pools }
        var bound: [BoundListener] = []
        do {
            for listener in bootstrap.listeners {
                let setup = try ListenerPipeline(
                    listener: listener, sockets: sockets, handshakeTimeout: handshakeTimeout, pools: pools, stats: stats, logger: logger)
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 1024)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelOption(.maxMessagesPerRead, value: 16)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try setup.initialize(channel) }
                    }
                    .bind(host: listener.address.address, port: listener.address.port).get()
                remember(channel)
                bound.append(BoundListener(name: listener.name, address: channel.localAddress!))
                logger.info("listener \(listener.name) listening on \(Self.describe(channel.localAddress!))")
            }
            var adminAddress: SocketAddress?
            if let admin = bootstrap.admin {
                let channel = try await bindAdmin(admin)
                remember(channel)
                adminAddress = channel.localAddress
                logger.info("admin listening on \(Self.describe(channel.localAddress!))")
            }
            state.withLock { $0.ready = true }
            return (bound, adminAddress)
        } catch {
            await shutdown()
            throw error
        }
    }

    /// Stops accepting, closes pooled upstream connections, and lets requests in flight end
    /// with their connections.
    public func shutdown() async {
        let (channels, pools) = state.withLock { state in
            defer { state.channels.removeAll(); state.ready = false }
            return (state.channels, state.pools)
        }
        for channel in channels { try? await channel.close() }
        await pools?.closeAll()
        sockets.shutdown()
    }

    /// HOST:PORT, [V6]:PORT: how the config writes addresses, not NIO's debugging form.
    public static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    private func remember(_ channel: any Channel) {
        state.withLock { $0.channels.append(channel) }
    }

    private func bindAdmin(_ address: SocketAddressSpec) async throws -> any Channel {
        let stats = self.stats
        let configDump = bootstrap.configDumpJSON()
        let isReady: @Sendable () -> Bool = { [weak self] in self?.state.withLock { $0.ready } ?? false }
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(stats: stats, configDump: configDump, isReady: isReady))
                }
            }
            .bind(host: address.address, port: address.port).get()
    }
}
