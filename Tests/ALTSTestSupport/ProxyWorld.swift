import Foundation

/// Envoy v3 bootstrap YAML for the two proxies, in the shape of envoy/client.yaml and
/// envoy/server.yaml, on loopback ports.
public enum ProxyConfigs {
    public static func client(port: Int, adminPort: Int, serverPort: Int, serverAccount: String) -> String {
        """
        admin:
          address:
            socket_address: { address: 127.0.0.1, port_value: \(adminPort) }
        static_resources:
          listeners:
          - name: http_in
            address:
              socket_address: { address: 127.0.0.1, port_value: \(port) }
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
                        route: { cluster: alts_server, timeout: 0s }
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: alts_server
            connect_timeout: 2s
            type: STATIC
            load_assignment:
              cluster_name: alts_server
              endpoints:
              - lb_endpoints:
                - endpoint:
                    address:
                      socket_address: { address: 127.0.0.1, port_value: \(serverPort) }
            transport_socket:
              name: envoy.transport_sockets.alts
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts
                handshaker_service: "127.0.0.1:8080"
                peer_service_accounts: [ "\(serverAccount)" ]

        """
    }

    public static func server(port: Int, adminPort: Int, upstreamPort: Int, clientAccount: String, handshakerService: String = "127.0.0.1:8080") -> String {
        """
        admin:
          address:
            socket_address: { address: 127.0.0.1, port_value: \(adminPort) }
        static_resources:
          listeners:
          - name: alts_in
            address:
              socket_address: { address: 127.0.0.1, port_value: \(port) }
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.alts
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts
                  handshaker_service: "\(handshakerService)"
                  peer_service_accounts: [ "\(clientAccount)" ]
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: server_http
                  route_config:
                    virtual_hosts:
                    - name: everything
                      domains: ["*"]
                      routes:
                      - match: { prefix: "/" }
                        route: { cluster: app, timeout: 0s }
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: app
            connect_timeout: 2s
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints:
              - lb_endpoints:
                - endpoint:
                    address:
                      socket_address: { address: 127.0.0.1, port_value: \(upstreamPort) }

        """
    }
}

/// httpbin, a server proxy and a client proxy as processes, on free loopback ports.
public final class ProxyWorld: @unchecked Sendable {
    public let scratch: String
    public let credentials: TestCredentials
    public var httpbin: BackgroundProcess?
    public var serverProxy: BackgroundProcess?
    public var clientProxy: BackgroundProcess?
    public var clientPort = 0
    /// The server proxy's ALTS listener.
    public var serverPort = 0

    public init() throws {
        scratch = try makeScratchDirectory(prefix: "proxy-world")
        credentials = try TestCredentials()
    }

    /// `serverProxyArguments` go to the server proxy's command line (`--handshake-timeout 3s`).
    /// With `serverHandshakerService` the server proxy hands its handshakes to that handshaker
    /// service (the YAML's handshaker_service) and holds no credentials; otherwise it handshakes
    /// in process.
    public func start(serverProxyArguments: [String] = [], serverHandshakerService: String? = nil) async throws {
        let proxy = try BuiltBinary.locate("alts-proxy")
        let httpbin = try BackgroundProcess(try BuiltBinary.locate("httpbin"), ["--listen", "127.0.0.1:0"])
        self.httpbin = httpbin
        let upstreamPort = try port(in: try await httpbin.waitForLine(timeout: .seconds(20)) { $0.contains("httpbin listening on ") })
        let serverCredentials = try credentials.issue("alts-server", project: "alpha")
        let clientCredentials = try credentials.issue("alts-client", project: "alpha")

        let serverConfig = scratch + "/server.yaml"
        try ProxyConfigs.server(
            port: 0, adminPort: 0, upstreamPort: upstreamPort, clientAccount: "alts-client@alpha.iam.gserviceaccount.com",
            handshakerService: serverHandshakerService ?? "127.0.0.1:8080"
        ).write(toFile: serverConfig, atomically: true, encoding: .utf8)
        let handshakeSource = serverHandshakerService == nil ? ["--alts-credentials", serverCredentials] : []
        let serverProxy = try BackgroundProcess(proxy, ["-c", serverConfig] + handshakeSource + serverProxyArguments)
        self.serverProxy = serverProxy
        serverPort = try port(in: try await serverProxy.waitForLine(timeout: .seconds(20)) { $0.contains("listener alts_in listening on ") })

        let clientConfig = scratch + "/client.yaml"
        try ProxyConfigs.client(port: 0, adminPort: 0, serverPort: serverPort, serverAccount: "alts-server@alpha.iam.gserviceaccount.com")
            .write(toFile: clientConfig, atomically: true, encoding: .utf8)
        let clientProxy = try BackgroundProcess(proxy, ["-c", clientConfig, "--alts-credentials", clientCredentials])
        self.clientProxy = clientProxy
        clientPort = try port(in: try await clientProxy.waitForLine(timeout: .seconds(20)) { $0.contains("listener http_in listening on ") })
    }

    private func port(in line: String) throws -> Int {
        guard let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            throw CocoaError(.formatting)
        }
        return port
    }

    public func stop() {
        for process in [clientProxy, serverProxy, httpbin].compactMap({ $0 }) where process.process.isRunning {
            process.process.terminate()
            process.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
