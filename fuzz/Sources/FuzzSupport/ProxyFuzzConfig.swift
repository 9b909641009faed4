/// The bootstrap the proxy HTTP target serves and a seed of the YAML target: one listener with
/// codec AUTO (so both the HTTP/1.1 and the h2 paths are reachable), routes with rewrites,
/// added headers and timeouts, and an HTTP/1.1 and an HTTP/2 cluster.
public let proxyFuzzBootstrapYAML = """
static_resources:
  listeners:
  - name: ingress
    address:
      socket_address: { address: 127.0.0.1, port_value: 0 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          codec_type: AUTO
          stream_idle_timeout: 30s
          route_config:
            name: routes
            request_headers_to_add: [ { header: { key: x-env, value: fuzz }, append: false } ]
            virtual_hosts:
            - name: api
              domains: ["api.example.com", "*.api.example.com"]
              routes:
              - match: { path: "/healthz" }
                route: { cluster: web, timeout: 0.25s }
              - match: { prefix: "/v1/" }
                route: { cluster: grpc, prefix_rewrite: "/", host_rewrite_literal: backend.internal }
                request_headers_to_add: [ { header: { key: x-route, value: v1 }, append_action: ADD_IF_ABSENT } ]
            - name: default
              domains: ["*"]
              routes:
              - match: { prefix: "/static/" }
                route: { cluster: web }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: web
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: web
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } }
  - name: grpc
    connect_timeout: 1s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: grpc
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } }
"""
