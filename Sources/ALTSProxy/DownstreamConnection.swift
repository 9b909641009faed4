import ALTSProxyConfig
import Logging
import Prometheus
import NIOCore

/// What every request on one downstream connection shares: the listener's HTTP settings,
/// the upstream pools of the connection's event loop, and who the peer is. Touched on that
/// event loop only.
final class DownstreamConnection {
    let listenerName: String
    let manager: HTTPConnectionManagerConfig
    let routes: RouteTable
    let pools: [String: UpstreamPool]
    let stats: ProxyStats
    let logger: Logger
    /// Set before any request is read: the remote address at accept, the ALTS peer once the
    /// handshake has passed the peer_service_accounts check.
    var identity: DownstreamIdentity
    private var requestCounters: [Int: Counter] = [:]

    init(listenerName: String, manager: HTTPConnectionManagerConfig, routes: RouteTable, pools: [String: UpstreamPool], stats: ProxyStats, logger: Logger, remoteAddress: String?) {
        self.listenerName = listenerName
        self.manager = manager
        self.routes = routes
        self.pools = pools
        self.stats = stats
        self.logger = logger
        self.identity = DownstreamIdentity(remoteAddress: remoteAddress, peerServiceAccount: nil)
    }

    /// One more response with `code` in the listener's http_requests counter.
    func countResponse(code: Int) {
        if let counter = requestCounters[code] {
            counter.increment()
            return
        }
        let counter = stats.requestCounter(statPrefix: manager.statPrefix, code: code)
        requestCounters[code] = counter
        counter.increment()
    }
}

/// Every cluster's pool on every event loop, made once at start-up so that lookups need no
/// lock: a request always uses the pools of the loop its connection runs on.
final class ClusterPools: Sendable {
    private let byLoop: [ObjectIdentifier: [String: UpstreamPool]]

    init(clusters: [Cluster], group: any EventLoopGroup, sockets: ALTSTransportSockets, stats: ProxyStats, logger: Logger) throws {
        var byLoop: [ObjectIdentifier: [String: UpstreamPool]] = [:]
        let factories = try Dictionary(uniqueKeysWithValues: clusters.map { cluster in
            (cluster.name, try cluster.transportSocket.map { try sockets.factory(for: $0) })
        })
        for loop in group.makeIterator() {
            var pools: [String: UpstreamPool] = [:]
            for cluster in clusters {
                pools[cluster.name] = UpstreamPool(cluster: cluster, eventLoop: loop, factory: factories[cluster.name] ?? nil, stats: stats, logger: logger)
            }
            byLoop[ObjectIdentifier(loop)] = pools
        }
        self.byLoop = byLoop
    }

    func pools(on loop: any EventLoop) -> [String: UpstreamPool] {
        byLoop[ObjectIdentifier(loop)] ?? [:]
    }

    func closeAll() async {
        for pools in byLoop.values {
            for pool in pools.values {
                try? await pool.eventLoop.submit { pool.closeAll() }.get()
            }
        }
    }
}
