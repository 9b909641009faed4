import ALTSProxyConfig
import Testing

/// Every way a bootstrap is refused: the error names the YAML path and says what is wrong.
@Suite("Loader rejections")
struct LoaderRejectionTests {
    static let base = """
        admin:
          address:
            socket_address: { address: 127.0.0.1, port_value: 9901 }
        static_resources:
          listeners:
          - name: http_in
            address:
              socket_address: { address: 127.0.0.1, port_value: 18080 }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: client_http
                  route_config:
                    virtual_hosts:
                    - name: everything
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: upstream }
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: upstream
            connect_timeout: 2s
            type: STATIC
            load_assignment:
              cluster_name: upstream
              endpoints:
              - lb_endpoints:
                - endpoint:
                    address:
                      socket_address: { address: 127.0.0.1, port_value: 8000 }

        """

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let replace: String
        let with: String
        let path: String
        let message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unknown top-level field", replace: "admin:\n", with: "dynamic_resources: {}\nadmin:\n",
             path: "dynamic_resources", message: "unsupported field 'dynamic_resources' (alts-proxy supports: node, admin, static_resources)"),
        Case(name: "unknown cluster field", replace: "    connect_timeout: 2s\n", with: "    connect_timeout: 2s\n    retry_budget: {}\n",
             path: "static_resources.clusters[0].retry_budget", message: "unsupported field 'retry_budget'"),
        Case(name: "lb_policy other than ROUND_ROBIN", replace: "    type: STATIC\n", with: "    type: STATIC\n    lb_policy: MAGLEV\n",
             path: "static_resources.clusters[0].lb_policy", message: "unsupported lb_policy 'MAGLEV' (alts-proxy supports: ROUND_ROBIN)"),
        Case(name: "EDS cluster type", replace: "type: STATIC", with: "type: EDS",
             path: "static_resources.clusters[0].type", message: "unsupported cluster type 'EDS' (alts-proxy supports: STATIC, STRICT_DNS, LOGICAL_DNS)"),
        Case(name: "host name in a STATIC cluster", replace: "{ address: 127.0.0.1, port_value: 8000 }", with: "{ address: httpbin, port_value: 8000 }",
             path: "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address",
             message: "'httpbin' is not an IP address (STATIC clusters need IP literals"),
        Case(name: "endpoint port 0", replace: "port_value: 8000", with: "port_value: 0",
             path: "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value",
             message: "port_value 0 is out of range (1-65535)"),
        Case(name: "listener port too large", replace: "port_value: 18080", with: "port_value: 70000",
             path: "static_resources.listeners[0].address.socket_address.port_value", message: "port_value 70000 is out of range (0-65535)"),
        Case(name: "listener bound to a host name", replace: "{ address: 127.0.0.1, port_value: 18080 }", with: "{ address: localhost, port_value: 18080 }",
             path: "static_resources.listeners[0].address.socket_address.address", message: "'localhost' is not an IP address (listeners and admin bind to an IP address)"),
        Case(name: "route to a cluster that does not exist", replace: "route: { cluster: upstream }", with: "route: { cluster: nowhere }",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster",
             message: "unknown cluster 'nowhere' (static_resources.clusters has: upstream)"),
        Case(name: "wrong @type for the connection manager", replace: "http_connection_manager.v3.HttpConnectionManager", with: "http_connection_manager.v3.HttpConnectionManagerX",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.@type", message: "wrong @type"),
        Case(name: "v2 'config' instead of typed_config",
             replace: "      - name: envoy.filters.network.http_connection_manager\n        typed_config:\n",
             with: "      - name: envoy.filters.network.http_connection_manager\n        config: {}\n        typed_config:\n",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].config", message: "'config' is Envoy's v2 API, use typed_config"),
        Case(name: "unknown network filter", replace: "- name: envoy.filters.network.http_connection_manager\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
             with: "- name: envoy.filters.network.redis_proxy\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].name", message: "unsupported network filter 'envoy.filters.network.redis_proxy'"),
        Case(name: "an http filter other than the router", replace: "- name: envoy.filters.http.router\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
             with: "- name: envoy.filters.http.cors\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].name", message: "unsupported http filter 'envoy.filters.http.cors'"),
        Case(name: "unquoted number as stat_prefix", replace: "stat_prefix: client_http", with: "stat_prefix: 5",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix", message: "expected a string, got the number 5 (quote it: \"5\")"),
        Case(name: "duration without a unit", replace: "connect_timeout: 2s", with: "connect_timeout: 2",
             path: "static_resources.clusters[0].connect_timeout", message: "expected a duration like \"5s\" or \"0.25s\", got the number 2"),
        Case(name: "duration in minutes", replace: "connect_timeout: 2s", with: "connect_timeout: 2m",
             path: "static_resources.clusters[0].connect_timeout", message: "invalid duration '2m'"),
        Case(name: "codec_type HTTP3", replace: "stat_prefix: client_http\n", with: "stat_prefix: client_http\n          codec_type: HTTP3\n",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.codec_type", message: "unsupported codec_type 'HTTP3' (alts-proxy supports: AUTO, HTTP1, HTTP2)"),
        Case(name: "a TLS transport socket",
             replace: "    - filters:\n",
             with: "    - transport_socket:\n        name: envoy.transport_sockets.tls\n      filters:\n",
             path: "static_resources.listeners[0].filter_chains[0].transport_socket.name", message: "unsupported transport socket 'envoy.transport_sockets.tls'"),
        Case(name: "ALTS without a handshaker_service",
             replace: "    - filters:\n",
             with: "    - transport_socket:\n        name: envoy.transport_sockets.alts\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts\n      filters:\n",
             path: "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.handshaker_service", message: "missing required field 'handshaker_service'"),
        Case(name: "ALTS handshaker_service without a port",
             replace: "    - filters:\n",
             with: "    - transport_socket:\n        name: envoy.transport_sockets.alts\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts\n          handshaker_service: metadata\n      filters:\n",
             path: "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.handshaker_service", message: "invalid handshaker_service 'metadata': expected HOST:PORT, [IPV6]:PORT or unix:PATH"),
        Case(name: "two filter chains", replace: "    - filters:\n", with: "    - filters: []\n    - filters:\n",
             path: "static_resources.listeners[0].filter_chains", message: "exactly one filter chain is supported (filter_chain_match is not), got 2"),
        Case(name: "duplicate cluster", replace: "  - name: upstream\n    connect_timeout: 2s\n",
             with: "  - name: upstream\n    load_assignment: { endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } } ] } ] }\n  - name: upstream\n    connect_timeout: 2s\n",
             path: "static_resources.clusters[1]", message: "duplicate cluster name 'upstream'"),
        Case(name: "match with neither prefix nor path", replace: "match: { prefix: \"/\" }", with: "match: {}",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].match", message: "a match needs 'prefix' or 'path'"),
        Case(name: "regex match", replace: "match: { prefix: \"/\" }", with: "match: { safe_regex: { regex: \".*\" } }",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].match.safe_regex", message: "unsupported field 'safe_regex' (alts-proxy supports: prefix, path)"),
        Case(name: "setting the identity header by configuration", replace: "route: { cluster: upstream }",
             with: "route: { cluster: upstream }\n                request_headers_to_add: [ { header: { key: x-alts-peer-service-account, value: root } } ]",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].header.key",
             message: "header 'x-alts-peer-service-account' cannot be set by configuration"),
        Case(name: "append with append_action", replace: "route: { cluster: upstream }",
             with: "route: { cluster: upstream }\n                request_headers_to_add: [ { header: { key: x-a, value: b }, append: true, append_action: ADD_IF_ABSENT } ]",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].append_action",
             message: "'append' and 'append_action' are exclusive"),
        Case(name: "a bad domain pattern", replace: "domains: [\"*\"]", with: "domains: [\"a.*.com\"]",
             path: "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains", message: "invalid domain 'a.*.com'"),
        Case(name: "admin access log to a file", replace: "admin:\n", with: "admin:\n  access_log_path: /tmp/admin.log\n",
             path: "admin.access_log_path", message: "admin access logging is not implemented"),
        Case(name: "YAML merge keys", replace: "    connect_timeout: 2s\n", with: "    <<: { connect_timeout: 2s }\n",
             path: "static_resources.clusters[0][\"<<\"]", message: "YAML merge keys ('<<') are not supported"),
        Case(name: "not YAML", replace: "admin:\n", with: "admin: [\n", path: "", message: "not valid YAML"),
        Case(name: "upstream protocol twice", replace: "    connect_timeout: 2s\n",
             with: "    connect_timeout: 2s\n    http2_protocol_options: {}\n    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        explicit_http_config: { http2_protocol_options: {} }\n",
             path: "static_resources.clusters[0]", message: "not both"),
        Case(name: "an http2 option alts-proxy does not implement", replace: "    connect_timeout: 2s\n",
             with: "    connect_timeout: 2s\n    http2_protocol_options: { max_concurrent_streams: 10 }\n",
             path: "static_resources.clusters[0].http2_protocol_options.max_concurrent_streams", message: "unsupported field 'max_concurrent_streams' (alts-proxy supports: no fields here)"),
    ]

    @Test("refused with the path and the reason", arguments: cases)
    func refused(_ testCase: Case) throws {
        #expect(Self.base.contains(testCase.replace), "the mutation no longer applies to the base")
        let yaml = Self.base.replacingOccurrences(of: testCase.replace, with: testCase.with)
        let error = #expect(throws: ProxyConfigError.self) { try ProxyBootstrap.load(yaml: yaml) }
        #expect(error?.path == testCase.path, "\(String(describing: error))")
        #expect(error?.message.contains(testCase.message) == true, "\(String(describing: error))")
    }

    @Test("LOGICAL_DNS takes exactly one endpoint")
    func logicalDNS() throws {
        let yaml = Self.base
            .replacingOccurrences(of: "type: STATIC", with: "type: LOGICAL_DNS")
            .replacingOccurrences(of: "      - lb_endpoints:\n", with: "      - lb_endpoints:\n        - endpoint: { address: { socket_address: { address: backup.example, port_value: 80 } } }\n")
        let error = #expect(throws: ProxyConfigError.self) { try ProxyBootstrap.load(yaml: yaml) }
        #expect(error == ProxyConfigError(path: "static_resources.clusters[0].load_assignment.endpoints", message: "a LOGICAL_DNS cluster has exactly one endpoint (Envoy rejects more), got 2"))
    }

    @Test("The base itself loads, with Envoy's defaults")
    func baseLoads() throws {
        let bootstrap = try ProxyBootstrap.load(yaml: Self.base)
        #expect(bootstrap.clusters[0].connectTimeout == .seconds(2))
        guard case .httpConnectionManager(let hcm) = bootstrap.listeners[0].filterChain.filter else {
            Issue.record("expected an http_connection_manager")
            return
        }
        #expect(hcm.routeConfig.virtualHosts[0].routes[0].action.timeout == .seconds(15))
        #expect(hcm.streamIdleTimeout == .seconds(300))
        #expect(hcm.requestTimeout == nil)
    }

    @Test("A missing file is named")
    func missingFile() {
        let error = #expect(throws: ProxyConfigError.self) { try ProxyBootstrap.load(contentsOfFile: "/nonexistent/alts.yaml") }
        #expect(error?.description == "cannot read the configuration file: No such file or directory" || error?.description == "cannot read the configuration file: no such file", "\(String(describing: error))")
    }
}
