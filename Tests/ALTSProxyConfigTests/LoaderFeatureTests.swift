import ALTSProxyConfig
import Testing

/// The supported subset beyond the demo's two files, each read into the model exactly.
@Suite("Loader features")
struct LoaderFeatureTests {
    static func load(listener filter: String, cluster extra: String = "", chainSocket: String = "") throws -> ProxyBootstrap {
        try ProxyBootstrap.load(yaml: """
            node: { id: sidecar-1, cluster: demo }
            static_resources:
              listeners:
              - address:
                  socket_address: { address: "::1", port_value: 0 }
                filter_chains:
                - \(chainSocket)filters:
            \(filter)
              clusters:
              - name: backend
                type: STRICT_DNS
                load_assignment:
                  endpoints:
                  - lb_endpoints:
                    - endpoint: { address: { socket_address: { address: backend.internal, port_value: 443 } } }
                    - endpoint: { address: { socket_address: { address: "10.0.0.7", port_value: "8443" } } }
            \(extra)
            """)
    }

    static let hcm = """
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  codec_type: HTTP2
                  server_name: edge
                  stream_idle_timeout: 0s
                  request_timeout: { seconds: 30, nanos: 500000000 }
                  route_config:
                    name: routes
                    request_headers_to_add: [ { header: { key: X-Env, value: prod }, append: false } ]
                    virtual_hosts:
                    - name: api
                      domains: ["api.example.com", "*.api.example.com"]
                      routes:
                      - match: { path: "/healthz" }
                        route: { cluster: backend, timeout: 0.25s }
                      - match: { prefix: "/v1/" }
                        route: { cluster: backend, prefix_rewrite: "/", host_rewrite_literal: backend.internal, timeout: 0s }
                        request_headers_to_add: [ { header: { key: x-route, value: v1 }, append_action: ADD_IF_ABSENT } ]
                  http_filters:
                  - name: router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """

    @Test("http_connection_manager: codec, server_name, timeouts, routes, rewrites and headers")
    func connectionManager() throws {
        let bootstrap = try Self.load(listener: Self.hcm)
        #expect(bootstrap.admin == nil)
        let listener = bootstrap.listeners[0]
        #expect(listener.name == "listener_0")
        #expect(listener.address == SocketAddressSpec(address: "::1", port: 0))
        guard case .httpConnectionManager(let hcm) = listener.filterChain.filter else {
            Issue.record("expected an http_connection_manager")
            return
        }
        #expect(hcm.codecType == .http2)
        #expect(hcm.serverName == "edge")
        #expect(hcm.streamIdleTimeout == nil)
        #expect(hcm.requestTimeout == .seconds(30) + .milliseconds(500))
        #expect(hcm.routeConfig == RouteConfig(
            name: "routes",
            virtualHosts: [VirtualHost(name: "api", domains: ["api.example.com", "*.api.example.com"], routes: [
                Route(match: .path("/healthz"), action: RouteAction(cluster: "backend", timeout: .milliseconds(250))),
                Route(
                    match: .prefix("/v1/"),
                    action: RouteAction(cluster: "backend", prefixRewrite: "/", hostRewriteLiteral: "backend.internal", timeout: nil),
                    requestHeadersToAdd: [HeaderValueOption(key: "x-route", value: "v1", appendAction: .addIfAbsent)]
                ),
            ])],
            requestHeadersToAdd: [HeaderValueOption(key: "x-env", value: "prod", appendAction: .overwriteIfExistsOrAdd)]
        ))
        #expect(bootstrap.clusters[0].endpoints == [
            SocketAddressSpec(address: "backend.internal", port: 443), SocketAddressSpec(address: "10.0.0.7", port: 8443),
        ])
    }

    @Test("tcp_proxy with an idle timeout, a raw_buffer socket, and an HTTP/2 cluster over ALTS")
    func tcpProxy() throws {
        let bootstrap = try Self.load(
            listener: """
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: tunnel
                          cluster: backend
                          idle_timeout: 90s
                """,
            cluster: """
                    typed_extension_protocol_options:
                      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                        explicit_http_config: { http2_protocol_options: {} }
                    transport_socket:
                      name: envoy.transport_sockets.alts
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts
                        handshaker_service: "[::1]:8080"
                """,
            chainSocket: "transport_socket: { name: envoy.transport_sockets.raw_buffer }\n      "
        )
        #expect(bootstrap.listeners[0].filterChain == FilterChain(
            transportSocket: nil,
            filter: .tcpProxy(TCPProxyConfig(statPrefix: "tunnel", cluster: "backend", idleTimeout: .seconds(90)))
        ))
        #expect(bootstrap.clusters[0].upstreamProtocol == .http2)
        #expect(bootstrap.clusters[0].transportSocket == ALTSTransportSocketConfig(handshakerService: "[::1]:8080", peerServiceAccounts: []))
    }
}
