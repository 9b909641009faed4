import Prometheus
import Synchronization

/// The proxy's counters, served by the admin endpoint's `/stats` in Prometheus text format.
/// One registry per proxy instance (not the process-global MetricsSystem), so several proxies
/// in one test process keep separate figures.
public final class ProxyStats: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])

    private struct RequestKey: Hashable {
        let statPrefix: String
        let code: Int
    }

    private static var downstreamConnectionsTotal: MetricNameDescriptor { MetricNameDescriptor(namespace: "alts_proxy", metricName: "downstream_connections", unitName: "total", helpText: "Downstream connections accepted") }
    private static var downstreamConnectionsActive: MetricNameDescriptor { MetricNameDescriptor(namespace: "alts_proxy", metricName: "downstream_connections", unitName: "active", helpText: "Downstream connections open now") }
    private static var handshakesTotal: MetricNameDescriptor { MetricNameDescriptor(namespace: "alts_proxy", metricName: "handshakes", unitName: "total", helpText: "ALTS handshakes by side, listener or cluster, and result (ok or failure reason)") }
    private static var bytesTotal: MetricNameDescriptor { MetricNameDescriptor(namespace: "alts_proxy", metricName: "bytes", unitName: "total", helpText: "Bytes on the wire (ciphertext on ALTS connections) by side and direction") }
    private static var httpRequestsTotal: MetricNameDescriptor { MetricNameDescriptor(namespace: "alts_proxy", metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered, by stat_prefix and response code") }
    private static var upstreamConnectFailuresTotal: MetricNameDescriptor { MetricNameDescriptor(namespace: "alts_proxy", metricName: "upstream_connect_failures", unitName: "total", helpText: "Upstream connections that could not be made, by cluster and reason") }

    public init() {}

    /// Downstream connections accepted by a listener, and those open now.
    public func connectionOpened(listener: String) {
        registry.makeCounter(descriptor: Self.downstreamConnectionsTotal, labels: [("listener", listener)]).increment()
        registry.makeGauge(descriptor: Self.downstreamConnectionsActive, labels: [("listener", listener)]).increment()
    }

    public func connectionClosed(listener: String) {
        registry.makeGauge(descriptor: Self.downstreamConnectionsActive, labels: [("listener", listener)]).decrement()
    }

    /// `side` is "downstream" (a listener's handshakes, we are the server) or "upstream" (a
    /// cluster's, we are the client); `name` the listener or cluster; `result` "ok" or a reason.
    public func handshake(side: String, name: String, result: String) {
        registry.makeCounter(descriptor: Self.handshakesTotal, labels: [("side", side), ("name", name), ("result", result)]).increment()
    }

    /// Bytes on the wire (ciphertext when the connection is ALTS), by side and direction.
    public func byteCounter(side: String, direction: String) -> Counter {
        registry.makeCounter(descriptor: Self.bytesTotal, labels: [("side", side), ("direction", direction)])
    }

    /// HTTP requests answered by `stat_prefix` and response code. Callers keep the counter (a
    /// connection counts every response it sends, most of them with one code).
    func requestCounter(statPrefix: String, code: Int) -> Counter {
        let key = RequestKey(statPrefix: statPrefix, code: code)
        return requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(descriptor: Self.httpRequestsTotal, labels: [("stat_prefix", statPrefix), ("code", String(code))])
            counters[key] = counter
            return counter
        }
    }

    public func upstreamFailure(cluster: String, reason: String) {
        registry.makeCounter(descriptor: Self.upstreamConnectFailuresTotal, labels: [("cluster", cluster), ("reason", reason)]).increment()
    }

    public func prometheusText() -> String {
        registry.emitToString()
    }
}
