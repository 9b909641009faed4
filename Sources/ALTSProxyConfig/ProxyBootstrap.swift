/// The part of an Envoy v3 bootstrap that alts-proxy runs, after validation: every value here
/// has been checked, defaulted as Envoy defaults it, and cross-referenced (each route and
/// tcp_proxy names a cluster that exists). The YAML loader (`ProxyBootstrap.load`) is the only
/// way in from outside; the data path never sees raw YAML.
public struct ProxyBootstrap: Sendable, Equatable, Encodable {
    public var admin: SocketAddressSpec?
    public var listeners: [Listener]
    public var clusters: [Cluster]

    public init(admin: SocketAddressSpec?, listeners: [Listener], clusters: [Cluster]) {
        self.admin = admin
        self.listeners = listeners
        self.clusters = clusters
    }

    public func cluster(named name: String) -> Cluster? {
        clusters.first { $0.name == name }
    }
}

/// `socket_address { address, port_value }`. `address` is an IP literal or, for
/// STRICT_DNS/LOGICAL_DNS cluster endpoints only, a host name.
public struct SocketAddressSpec: Sendable, Hashable, Encodable, CustomStringConvertible {
    public var address: String
    public var port: Int

    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }

    public var description: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

public struct Listener: Sendable, Equatable, Encodable {
    public var name: String
    public var address: SocketAddressSpec
    /// Envoy picks among several chains with filter_chain_match, which alts-proxy does not
    /// support, so a listener has exactly one.
    public var filterChain: FilterChain

    public init(name: String, address: SocketAddressSpec, filterChain: FilterChain) {
        self.name = name
        self.address = address
        self.filterChain = filterChain
    }
}

public struct FilterChain: Sendable, Equatable, Encodable {
    /// Present: connections to this listener are ALTS (the downstream side of the handshake).
    public var transportSocket: ALTSTransportSocketConfig?
    public var filter: NetworkFilter

    public init(transportSocket: ALTSTransportSocketConfig?, filter: NetworkFilter) {
        self.transportSocket = transportSocket
        self.filter = filter
    }
}

public enum NetworkFilter: Sendable, Equatable, Encodable {
    case httpConnectionManager(HTTPConnectionManagerConfig)
    case tcpProxy(TCPProxyConfig)
}

/// `envoy.transport_sockets.alts` typed_config (envoy.extensions.transport_sockets.alts.v3.Alts).
public struct ALTSTransportSocketConfig: Sendable, Equatable, Encodable {
    /// HOST:PORT of a grpc.gcp.HandshakerService, as Envoy takes it.
    public var handshakerService: String
    /// Empty means any authenticated peer, as in Envoy.
    public var peerServiceAccounts: [String]

    public init(handshakerService: String, peerServiceAccounts: [String]) {
        self.handshakerService = handshakerService
        self.peerServiceAccounts = peerServiceAccounts
    }
}

public struct HTTPConnectionManagerConfig: Sendable, Equatable, Encodable {
    public enum CodecType: String, Sendable, Equatable, Encodable {
        case auto = "AUTO"
        case http1 = "HTTP1"
        case http2 = "HTTP2"
    }

    public var statPrefix: String
    public var codecType: CodecType
    /// The `server` response header. Envoy's default is "envoy"; ours is "alts-proxy".
    public var serverName: String
    public var routeConfig: RouteConfig
    /// http_connection_manager.stream_idle_timeout (Envoy default 5 minutes; nil = disabled).
    public var streamIdleTimeout: Duration?
    /// http_connection_manager.request_timeout (Envoy default disabled).
    public var requestTimeout: Duration?

    public init(statPrefix: String, codecType: CodecType = .auto, serverName: String = "alts-proxy", routeConfig: RouteConfig, streamIdleTimeout: Duration? = .seconds(300), requestTimeout: Duration? = nil) {
        self.statPrefix = statPrefix
        self.codecType = codecType
        self.serverName = serverName
        self.routeConfig = routeConfig
        self.streamIdleTimeout = streamIdleTimeout
        self.requestTimeout = requestTimeout
    }
}

public struct RouteConfig: Sendable, Equatable, Encodable {
    public var name: String?
    public var virtualHosts: [VirtualHost]
    public var requestHeadersToAdd: [HeaderValueOption]

    public init(name: String? = nil, virtualHosts: [VirtualHost], requestHeadersToAdd: [HeaderValueOption] = []) {
        self.name = name
        self.virtualHosts = virtualHosts
        self.requestHeadersToAdd = requestHeadersToAdd
    }
}

public struct VirtualHost: Sendable, Equatable, Encodable {
    public var name: String
    /// Exact names, `*`, `*.suffix` or `prefix*`, matched case-insensitively against the
    /// Host/:authority (with and without its port), as Envoy matches them.
    public var domains: [String]
    public var routes: [Route]
    public var requestHeadersToAdd: [HeaderValueOption]

    public init(name: String, domains: [String], routes: [Route], requestHeadersToAdd: [HeaderValueOption] = []) {
        self.name = name
        self.domains = domains
        self.routes = routes
        self.requestHeadersToAdd = requestHeadersToAdd
    }
}

public struct Route: Sendable, Equatable, Encodable {
    public enum Match: Sendable, Equatable, Encodable {
        case prefix(String)
        case path(String)
    }

    public var match: Match
    public var action: RouteAction
    public var requestHeadersToAdd: [HeaderValueOption]

    public init(match: Match, action: RouteAction, requestHeadersToAdd: [HeaderValueOption] = []) {
        self.match = match
        self.action = action
        self.requestHeadersToAdd = requestHeadersToAdd
    }
}

public struct RouteAction: Sendable, Equatable, Encodable {
    public var cluster: String
    public var prefixRewrite: String?
    public var hostRewriteLiteral: String?
    /// Envoy's default route timeout is 15 s; `0s` in YAML disables it (nil here).
    public var timeout: Duration?

    public init(cluster: String, prefixRewrite: String? = nil, hostRewriteLiteral: String? = nil, timeout: Duration? = .seconds(15)) {
        self.cluster = cluster
        self.prefixRewrite = prefixRewrite
        self.hostRewriteLiteral = hostRewriteLiteral
        self.timeout = timeout
    }
}

/// `request_headers_to_add[]`: `header { key, value }` with `append` (v3 legacy bool, default
/// true) or `append_action` (APPEND_IF_EXISTS_OR_ADD, ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD).
public struct HeaderValueOption: Sendable, Equatable, Encodable {
    public enum AppendAction: String, Sendable, Equatable, Encodable {
        case appendIfExistsOrAdd = "APPEND_IF_EXISTS_OR_ADD"
        case addIfAbsent = "ADD_IF_ABSENT"
        case overwriteIfExistsOrAdd = "OVERWRITE_IF_EXISTS_OR_ADD"
    }

    public var key: String
    public var value: String
    public var appendAction: AppendAction

    public init(key: String, value: String, appendAction: AppendAction = .appendIfExistsOrAdd) {
        self.key = key
        self.value = value
        self.appendAction = appendAction
    }
}

public struct TCPProxyConfig: Sendable, Equatable, Encodable {
    public var statPrefix: String
    public var cluster: String
    /// tcp_proxy.idle_timeout (Envoy default 1 hour; nil = disabled).
    public var idleTimeout: Duration?

    public init(statPrefix: String, cluster: String, idleTimeout: Duration? = .seconds(3600)) {
        self.statPrefix = statPrefix
        self.cluster = cluster
        self.idleTimeout = idleTimeout
    }
}

public struct Cluster: Sendable, Equatable, Encodable {
    public enum DiscoveryType: String, Sendable, Equatable, Encodable {
        case `static` = "STATIC"
        case strictDNS = "STRICT_DNS"
        case logicalDNS = "LOGICAL_DNS"
    }

    public enum UpstreamProtocol: String, Sendable, Equatable, Encodable {
        case http1 = "HTTP1"
        case http2 = "HTTP2"
    }

    public var name: String
    /// Envoy's default is 5 s.
    public var connectTimeout: Duration
    public var type: DiscoveryType
    /// Only ROUND_ROBIN (Envoy's default) is supported.
    public var lbPolicy: String
    public var endpoints: [SocketAddressSpec]
    /// HTTP2 when the cluster sets `http2_protocol_options` (legacy field) or
    /// `typed_extension_protocol_options."envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    /// .explicit_http_config.http2_protocol_options`.
    public var upstreamProtocol: UpstreamProtocol
    /// Present: connections to this cluster's endpoints are ALTS (the client side).
    public var transportSocket: ALTSTransportSocketConfig?
    /// `circuit_breakers`-free cap on pooled idle connections per endpoint (not an Envoy
    /// field; fixed, documented in docs/PROXY.md).
    public var maxIdleConnectionsPerEndpoint: Int

    public init(name: String, connectTimeout: Duration = .seconds(5), type: DiscoveryType = .static, lbPolicy: String = "ROUND_ROBIN", endpoints: [SocketAddressSpec], upstreamProtocol: UpstreamProtocol = .http1, transportSocket: ALTSTransportSocketConfig? = nil, maxIdleConnectionsPerEndpoint: Int = 1024) {
        self.name = name
        self.connectTimeout = connectTimeout
        self.type = type
        self.lbPolicy = lbPolicy
        self.endpoints = endpoints
        self.upstreamProtocol = upstreamProtocol
        self.transportSocket = transportSocket
        self.maxIdleConnectionsPerEndpoint = maxIdleConnectionsPerEndpoint
    }
}

/// A configuration that cannot be run: `path` is where in the YAML (`static_resources.
/// clusters[0].lb_policy`), `message` what is wrong there.
public struct ProxyConfigError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
