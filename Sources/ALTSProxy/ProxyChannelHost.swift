import ALTSProxyConfig
import Logging
import NIOCore

/// One listener's data path on channels the caller brings (sockets accepted elsewhere, or
/// in-memory channels, as fuzz/ drives the downstream HTTP path), with upstream pools of its
/// own on one event loop. `ALTSProxyServer` is the usual way in: it binds the listeners.
public final class ProxyChannelHost: Sendable {
    public let stats = ProxyStats()
    public let eventLoop: any EventLoop
    private let pipeline: ListenerPipeline
    private let pools: ClusterPools
    private let sockets: ALTSTransportSockets

    public init(
        bootstrap: ProxyBootstrap, listenerName: String, handshakes: ProxyHandshakeSource,
        eventLoop: any EventLoop, logger: Logger, handshakeTimeout: TimeAmount = .seconds(10)
    ) throws {
        guard let listener = bootstrap.listeners.first(where: { $0.name == listenerName }) else {
            throw ProxyChannelHostError(listenerName: listenerName, known: bootstrap.listeners.map(\.name))
        }
        let sockets = ALTSTransportSockets(source: handshakes)
        let pools = try ClusterPools(clusters: bootstrap.clusters, group: eventLoop, sockets: sockets, stats: stats, logger: logger)
        self.pipeline = try ListenerPipeline(
            listener: listener, sockets: sockets, handshakeTimeout: handshakeTimeout, pools: pools, stats: stats, logger: logger)
        self.eventLoop = eventLoop
        self.pools = pools
        self.sockets = sockets
    }

    /// Sets up `channel`'s pipeline as the listener's accepted connections get it. Call on
    /// the host's event loop, which must be the channel's.
    public func initialize(_ channel: any Channel) throws {
        precondition(channel.eventLoop === eventLoop, "a ProxyChannelHost serves channels of its own event loop only")
        try pipeline.initialize(channel)
    }

    /// Closes the pooled upstream connections and the handshaker-service clients.
    public func shutdown() {
        let closePools: @Sendable () -> Void = { [pools, eventLoop] in
            for pool in pools.pools(on: eventLoop).values { pool.closeAll() }
        }
        if eventLoop.inEventLoop { closePools() } else { eventLoop.execute(closePools) }
        sockets.shutdown()
    }
}

public struct ProxyChannelHostError: Error, CustomStringConvertible {
    public let listenerName: String
    public let known: [String]

    public var description: String {
        "no listener named \"\(listenerName)\" in the bootstrap (listeners: \(known.joined(separator: ", ")))"
    }
}
