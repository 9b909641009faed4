import ALTSNIO
import ALTSProxyConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2

/// How one listener's accepted connections are set up: wire-byte counting, the ALTS handshake
/// and peer check when the filter chain has the transport socket, then HTTP (HTTP/1.1, h2, or
/// either by the client preface) or a tcp_proxy tunnel.
struct ListenerPipeline: Sendable {
    let listener: Listener
    let factory: ALTSHandshakerFactory?
    let handshakeConfiguration: ALTSHandshakeHandler.Configuration
    let pools: ClusterPools
    let stats: ProxyStats
    let logger: Logger
    /// The http_connection_manager's routes, indexed once for all its connections.
    private let routes: RouteTable?

    init(
        listener: Listener, factory: ALTSHandshakerFactory?, handshakeConfiguration: ALTSHandshakeHandler.Configuration,
        pools: ClusterPools, stats: ProxyStats, logger: Logger
    ) {
        self.listener = listener
        if case .httpConnectionManager(let manager) = listener.filterChain.filter {
            routes = RouteTable(config: manager.routeConfig)
        } else {
            routes = nil
        }
        self.factory = factory
        self.handshakeConfiguration = handshakeConfiguration
        self.pools = pools
        self.stats = stats
        self.logger = logger
    }

    /// The listener's pipeline as every host of it sets it up: its transport socket's
    /// handshaker factory, and the handshake timeout.
    init(
        listener: Listener, sockets: ALTSTransportSockets, handshakeTimeout: TimeAmount, pools: ClusterPools,
        stats: ProxyStats, logger: Logger
    ) throws {
        var handshakeConfiguration = ALTSHandshakeHandler.Configuration()
        handshakeConfiguration.handshakeTimeout = handshakeTimeout
        self.init(
            listener: listener, factory: try listener.filterChain.transportSocket.map { try sockets.factory(for: $0) },
            handshakeConfiguration: handshakeConfiguration, pools: pools, stats: stats, logger: logger
        )
    }

    func initialize(_ channel: any Channel) throws {
        let pipeline = channel.pipeline.syncOperations
        let name = listener.name
        let stats = self.stats
        stats.connectionOpened(listener: name)
        channel.closeFuture.whenComplete { _ in stats.connectionClosed(listener: name) }
        try pipeline.addHandler(WireByteCounter(counters: WireByteCounters(stats: stats, side: "downstream")))

        let pools = self.pools.pools(on: channel.eventLoop)
        var admitted: ((String) -> Void)?
        if let socket = listener.filterChain.transportSocket, let factory {
            let logger = self.logger
            try pipeline.addALTSHandlers(role: .server, factory: factory, configuration: handshakeConfiguration, logger: logger)
                .whenFailure { error in stats.handshake(side: "downstream", name: name, result: handshakeFailureReason(error)) }
            let gate = PeerServiceAccountGate(socket: socket, listenerName: name, stats: stats, logger: logger) { admitted?($0) }
            try pipeline.addHandler(gate)
        }

        switch listener.filterChain.filter {
        case .tcpProxy(let tcpProxy):
            guard let pool = pools[tcpProxy.cluster] else { throw ChannelError.inappropriateOperationForState }
            if let idle = tcpProxy.idleTimeout {
                try pipeline.addHandler(IdleTimeoutHandler(timeout: .nanoseconds(Int64(idle.milliseconds) * 1_000_000)))
            }
            try pipeline.addHandler(TCPProxyStarter(pool: pool))
        case .httpConnectionManager(let manager):
            let connection = DownstreamConnection(
                listenerName: name, manager: manager, routes: routes ?? RouteTable(config: manager.routeConfig), pools: pools, stats: stats, logger: logger,
                remoteAddress: channel.remoteAddress?.ipAddress
            )
            admitted = { connection.identity.peerServiceAccount = $0 }
            if let idle = manager.streamIdleTimeout {
                try pipeline.addHandler(IdleTimeoutHandler(timeout: .nanoseconds(Int64(idle.milliseconds) * 1_000_000)))
            }
            switch manager.codecType {
            case .http1:
                try Self.addHTTP1(to: pipeline, connection: connection)
            case .http2:
                try Self.addHTTP2(to: pipeline, connection: connection)
            case .auto:
                try pipeline.addHandler(HTTPCodecSelector { context, isHTTP2 in
                    let pipeline = context.pipeline.syncOperations
                    if isHTTP2 {
                        try Self.addHTTP2(to: pipeline, connection: connection)
                    } else {
                        try Self.addHTTP1(to: pipeline, connection: connection)
                    }
                })
            }
        }
    }

    private static func addHTTP1(to pipeline: ChannelPipeline.SynchronousOperations, connection: DownstreamConnection) throws {
        // Response headers need no second validation on the way out: they are the upstream's,
        // already parsed (and so validated) by llhttp, plus our own, checked at config load.
        // Pipelining and the 400 for unparsable requests are HTTPProxyHandler's own.
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false)
        try pipeline.addHandler(HTTPProxyHandler(connection: connection, isHTTP2: false))
    }

    private static func addHTTP2(to pipeline: ChannelPipeline.SynchronousOperations, connection: DownstreamConnection) throws {
        let boundConnection = NIOLoopBound(connection, eventLoop: pipeline.eventLoop)
        _ = try pipeline.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers([
                    HTTP2FramePayloadToHTTP1ServerCodec(),
                    HTTPProxyHandler(connection: boundConnection.value, isHTTP2: true),
                ])
            }
        }
    }
}
