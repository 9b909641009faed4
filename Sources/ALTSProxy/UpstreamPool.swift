import ALTSNIO
import ALTSProxyConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// Why a request could not get an upstream: what Envoy's 503 body calls the reset reason.
struct UpstreamConnectError: Error, CustomStringConvertible {
    let endpoint: SocketAddressSpec
    let underlying: any Error

    var description: String { "\(endpoint): \(underlying)" }

    /// The "transport failure reason" of Envoy's local reply.
    var transportFailureReason: String {
        if let mismatch = underlying as? PeerServiceAccountMismatch {
            return "Couldn't find peer's service account in peer_service_accounts: \(mismatch.peer)"
        }
        return String(describing: underlying)
    }
}

/// The event loop of the downstream connection cannot open sockets.
struct UpstreamLoopUnsupported: Error, CustomStringConvertible {
    var description: String { "this event loop cannot open upstream sockets" }
}

/// One request's hold on an upstream: an HTTP/1.1 connection from the pool, or a fresh HTTP/2
/// stream. `pool.release` gives it back (or closes it) when the exchange is over.
struct UpstreamLease {
    let channel: any Channel
    let exchange: UpstreamExchangeHandler
    let isHTTP2Stream: Bool
}

/// A cluster's upstream connections for one event loop. Every request on that loop takes its
/// upstream here, so the pool needs no lock: all its state is touched on `eventLoop` only
/// (checked), which is why it may be shared as `@unchecked Sendable`.
final class UpstreamPool: @unchecked Sendable {
    let cluster: Cluster
    let eventLoop: any EventLoop
    private let factory: ALTSHandshakerFactory?
    private let handshakeConfiguration: ALTSHandshakeHandler.Configuration
    private let stats: ProxyStats
    let logger: Logger
    private let wireBytes: WireByteCounters

    private var idle: [UpstreamLease] = []
    private var nextEndpoint = 0
    private var http2Connections: [SocketAddressSpec: EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer>] = [:]
    private var http2Channels: [any Channel] = []

    init(cluster: Cluster, eventLoop: any EventLoop, factory: ALTSHandshakerFactory?, stats: ProxyStats, logger: Logger) {
        self.cluster = cluster
        self.eventLoop = eventLoop
        self.factory = factory
        self.stats = stats
        self.logger = logger
        self.wireBytes = WireByteCounters(stats: stats, side: "upstream")
        var configuration = ALTSHandshakeHandler.Configuration()
        configuration.handshakeTimeout = .nanoseconds(max(1_000_000_000, Int64(cluster.connectTimeout.milliseconds) * 1_000_000))
        self.handshakeConfiguration = configuration
    }

    /// Calls `completion` on this loop (possibly before returning, with a pooled connection).
    func acquire(_ completion: @escaping (Result<UpstreamLease, any Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        switch cluster.upstreamProtocol {
        case .http1:
            while let lease = idle.popLast() {
                if lease.channel.isActive { return completion(.success(lease)) }
            }
            connectHTTP1(to: pickEndpoint(), completion)
        case .http2:
            openHTTP2Stream(to: pickEndpoint(), completion)
        }
    }

    /// `requestComplete`: the whole request went upstream. Only then, with the response
    /// complete and no `connection: close`, may an HTTP/1.1 connection carry another request.
    func release(_ lease: UpstreamLease, requestComplete: Bool) {
        eventLoop.preconditionInEventLoop()
        lease.exchange.detach()
        let clean = requestComplete && lease.exchange.responseComplete
        if lease.isHTTP2Stream {
            if !clean { lease.channel.close(promise: nil) }
            return
        }
        if clean, lease.exchange.reusable, lease.channel.isActive, idle.count < cluster.maxIdleConnectionsPerEndpoint * max(1, cluster.endpoints.count) {
            // Reading may have been paused for a slow downstream; the next request needs it.
            lease.channel.setAutoRead(true)
            idle.append(lease)
        } else {
            lease.channel.close(promise: nil)
        }
    }

    func closeAll() {
        eventLoop.preconditionInEventLoop()
        for lease in idle { lease.channel.close(promise: nil) }
        idle.removeAll()
        for channel in http2Channels { channel.close(promise: nil) }
    }

    private func pickEndpoint() -> SocketAddressSpec {
        let endpoint = cluster.endpoints[nextEndpoint % cluster.endpoints.count]
        nextEndpoint &+= 1
        return endpoint
    }

    private func connectHTTP1(to endpoint: SocketAddressSpec, _ completion: @escaping (Result<UpstreamLease, any Error>) -> Void) {
        let exchange = NIOLoopBound(UpstreamExchangeHandler(), eventLoop: eventLoop)
        connect(to: endpoint) { pipeline in
            // The request's headers were parsed (validated) downstream or come from the
            // validated config: no second validation on the way out.
            try pipeline.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
            try pipeline.addHandler(exchange.value)
        }.assumeIsolated().whenComplete { [weak self] result in
            completion(result.map { channel, _ in
                // An idle connection the upstream closes leaves the pool at once.
                channel.closeFuture.assumeIsolated().whenComplete { _ in
                    self?.idle.removeAll { $0.channel === channel }
                }
                return UpstreamLease(channel: channel, exchange: exchange.value, isHTTP2Stream: false)
            })
        }
    }

    /// A connection of its own (tcp_proxy), never pooled, ending in `end`.
    func openTunnel(_ end: TunnelEnd) -> EventLoopFuture<any Channel> {
        let end = NIOLoopBound(end, eventLoop: eventLoop)
        return connect(to: pickEndpoint()) { pipeline in try pipeline.addHandler(end.value) }.map { channel, _ in channel }
    }

    /// One HTTP/2 connection per endpoint carries every request of this loop to it.
    private func openHTTP2Stream(to endpoint: SocketAddressSpec, _ completion: @escaping (Result<UpstreamLease, any Error>) -> Void) {
        let connection: EventLoopFuture<NIOHTTP2Handler.StreamMultiplexer>
        if let existing = http2Connections[endpoint] {
            connection = existing
        } else {
            connection = connect(to: endpoint) { pipeline in
                try pipeline.configureHTTP2Pipeline(mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()) { channel in
                    // The upstream may not open streams towards us.
                    channel.close()
                }
            }.assumeIsolated().map { [weak self] channel, multiplexer in
                self?.http2Channels.append(channel)
                channel.closeFuture.assumeIsolated().whenComplete { [weak self] _ in
                    self?.http2Connections[endpoint] = nil
                    self?.http2Channels.removeAll { $0 === channel }
                }
                return multiplexer
            }.nonisolated()
            http2Connections[endpoint] = connection
            connection.assumeIsolated().whenFailure { [weak self] _ in self?.http2Connections[endpoint] = nil }
        }
        let exchange = NIOLoopBound(UpstreamExchangeHandler(), eventLoop: eventLoop)
        connection.flatMap { multiplexer in
            multiplexer.createStreamChannel { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http), exchange.value])
                }
            }
        }.assumeIsolated().whenComplete { result in
            completion(result.map { UpstreamLease(channel: $0, exchange: exchange.value, isHTTP2Stream: true) })
        }
    }

    /// TCP connect, then (for an ALTS cluster) the handshake and Envoy's peer_service_accounts
    /// check; the future succeeds only with a connection ready for requests.
    private func connect<Configured: Sendable>(
        to endpoint: SocketAddressSpec,
        configure: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Configured
    ) -> EventLoopFuture<(any Channel, Configured)> {
        // A loop that cannot open sockets (an in-memory channel's, as the fuzz targets use)
        // makes every upstream unreachable: a 503, never a crash. Checked before any promise
        // exists, so none is left unfulfilled.
        guard let socketBootstrap = ClientBootstrap(validatingGroup: eventLoop) else {
            stats.upstreamFailure(cluster: cluster.name, reason: "connect")
            return eventLoop.makeFailedFuture(UpstreamConnectError(endpoint: endpoint, underlying: UpstreamLoopUnsupported()))
        }
        let configured = eventLoop.makePromise(of: Configured.self)
        let factory = self.factory
        let handshakeConfiguration = self.handshakeConfiguration
        let logger = self.logger
        let wireBytes = self.wireBytes
        let handshake = eventLoop.makePromise(of: ALTSAuthInfo?.self)
        let connectTimeout = TimeAmount.milliseconds(max(1, cluster.connectTimeout.milliseconds))
        let bootstrap = socketBootstrap
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(WireByteCounter(counters: wireBytes))
                    if let factory {
                        try pipeline.addALTSHandlers(role: .client, factory: factory, configuration: handshakeConfiguration, logger: logger)
                            .map { Optional($0) }.cascade(to: handshake)
                    } else {
                        handshake.succeed(nil)
                    }
                    configured.succeed(try configure(pipeline))
                }
            }
        let cluster = self.cluster
        let stats = self.stats
        let transportSocket = cluster.transportSocket
        return bootstrap.connect(host: endpoint.address, port: endpoint.port).flatMap { channel in
            handshake.futureResult.and(configured.futureResult).flatMapThrowing { authInfo, value -> (any Channel, Configured) in
                if let authInfo, let transportSocket {
                    guard transportSocket.admits(authInfo.peerServiceAccount) else {
                        let mismatch = PeerServiceAccountMismatch(peer: authInfo.peerServiceAccount, allowed: transportSocket.peerServiceAccounts)
                        logger.warning("Handshake validation failed: \(mismatch)", metadata: ["cluster": "\(cluster.name)", "upstream": "\(endpoint)"])
                        stats.handshake(side: "upstream", name: cluster.name, result: handshakeFailureReason(mismatch))
                        channel.close(promise: nil)
                        throw mismatch
                    }
                    stats.handshake(side: "upstream", name: cluster.name, result: "ok")
                    logger.debug("upstream ALTS handshake ok", metadata: ["cluster": "\(cluster.name)", "peer": "\(authInfo.peerServiceAccount)"])
                }
                return (channel, value)
            }.flatMapErrorThrowing { error in
                if !(error is PeerServiceAccountMismatch), transportSocket != nil {
                    stats.handshake(side: "upstream", name: cluster.name, result: handshakeFailureReason(error))
                }
                channel.close(promise: nil)
                throw error
            }
        }.flatMapErrorThrowing { error in
            // A connect that fails before the channel exists never reaches the initializer.
            handshake.fail(error)
            configured.fail(error)
            stats.upstreamFailure(cluster: cluster.name, reason: handshakeFailureReason(error) == "other" ? "connect" : handshakeFailureReason(error))
            throw UpstreamConnectError(endpoint: endpoint, underlying: error)
        }
    }
}
