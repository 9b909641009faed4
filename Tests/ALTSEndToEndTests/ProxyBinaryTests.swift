import ALTSIdentity
import ALTSTestSupport
import Foundation
import Testing

/// The `alts-proxy` binary as an operator runs it: YAML files, the CLI, a pair of processes
/// over ALTS (handshakes in process with `--alts-credentials`), and httpbin behind.
@Suite("alts-proxy binaries", .serialized)
struct ProxyBinaryTests {
    @Test("--mode validate: OK for a good config; a bad one exits 1 naming the YAML path and the field")
    func validate() throws {
        let scratch = try makeScratchDirectory(prefix: "proxy-validate")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let proxy = try BuiltBinary.locate("alts-proxy")
        let good = scratch + "/good.yaml"
        try ProxyConfigs.client(port: 18080, adminPort: 19901, serverPort: 18081, serverAccount: "alts-server@alpha.iam.gserviceaccount.com")
            .write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try Subprocess.run(proxy, ["--mode", "validate", "-c", good])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "configuration '\(good)' OK\n")

        let bad = scratch + "/bad.yaml"
        try ProxyConfigs.client(port: 18080, adminPort: 19901, serverPort: 18081, serverAccount: "alts-server@alpha.iam.gserviceaccount.com")
            .replacingOccurrences(of: "    connect_timeout: 2s\n", with: "    connect_timeout: 2s\n    retry_budget: {}\n")
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try Subprocess.run(proxy, ["--mode", "validate", "-c", bad])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("alts-proxy: error: \(bad): static_resources.clusters[0]"), "\(refused.stderr)")
        #expect(refused.stderr.contains("retry_budget"), "\(refused.stderr)")
    }

    @Test("1 GiB up and 1 GiB down through the pair, with each proxy's peak RSS bounded")
    func gigabyte() async throws {
        let world = try ProxyWorld()
        defer { world.stop() }
        try await world.start()
        // Upload: curl streams 1 GiB of zeros from /dev/zero; httpbin counts and hashes it.
        let upload = try Subprocess.run("/bin/sh", ["-c",
            "head -c 1073741824 /dev/zero | curl -sS --max-time 300 -H 'content-type: application/octet-stream' -T - http://127.0.0.1:\(world.clientPort)/anything",
        ])
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(upload.stdout.contains("\"body_bytes\" : 1073741824") || upload.stdout.contains("\"body_bytes\": 1073741824"), "\(upload.stdout)")
        #expect(upload.stdout.contains("49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"), "sha256 of 1 GiB of zeros: \(upload.stdout)")
        let download = try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "300", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://127.0.0.1:\(world.clientPort)/bytes/1073741824"])
        #expect(download.stdout == "200 1073741824", "\(download.stdout) \(download.stderr)")
        for (name, process) in [("client proxy", world.clientProxy!), ("server proxy", world.serverProxy!)] {
            let peak = try peakRSSKiB(process.process.processIdentifier)
            #expect(peak < 96 * 1024, "\(name) peak RSS \(peak) KiB after 2 GiB through it")
        }
    }

    @Test("SIGTERM: both proxies exit 0")
    func sigterm() async throws {
        let world = try ProxyWorld()
        defer { world.stop() }
        try await world.start()
        let result = try Subprocess.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(world.clientPort)/get"])
        #expect(result.stdout == "200")
        #expect(try await world.clientProxy!.stop() == 0)
        #expect(try await world.serverProxy!.stop() == 0)
    }
}

func peakRSSKiB(_ pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    else { throw CocoaError(.fileReadCorruptFile) }
    return kib
}

/// Envoy v3 bootstrap YAML for the two proxies, in the shape of envoy/client.yaml and
/// envoy/server.yaml, on loopback ports.
enum ProxyConfigs {
    static func client(port: Int, adminPort: Int, serverPort: Int, serverAccount: String) -> String {
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

    static func server(port: Int, adminPort: Int, upstreamPort: Int, clientAccount: String) -> String {
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
                  handshaker_service: "127.0.0.1:8080"
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
final class ProxyWorld: @unchecked Sendable {
    let scratch: String
    let credentials: TestCredentials
    var httpbin: BackgroundProcess?
    var serverProxy: BackgroundProcess?
    var clientProxy: BackgroundProcess?
    var clientPort = 0

    init() throws {
        scratch = try makeScratchDirectory(prefix: "proxy-world")
        credentials = try TestCredentials()
    }

    func start() async throws {
        let proxy = try BuiltBinary.locate("alts-proxy")
        let httpbin = try BackgroundProcess(try BuiltBinary.locate("httpbin"), ["--listen", "127.0.0.1:0"])
        self.httpbin = httpbin
        let upstreamPort = try port(in: try await httpbin.waitForLine(timeout: .seconds(20)) { $0.contains("httpbin listening on ") })
        let serverCredentials = try credentials.issue("alts-server", project: "alpha")
        let clientCredentials = try credentials.issue("alts-client", project: "alpha")

        let serverConfig = scratch + "/server.yaml"
        try ProxyConfigs.server(port: 0, adminPort: 0, upstreamPort: upstreamPort, clientAccount: "alts-client@alpha.iam.gserviceaccount.com")
            .write(toFile: serverConfig, atomically: true, encoding: .utf8)
        let serverProxy = try BackgroundProcess(proxy, ["-c", serverConfig, "--alts-credentials", serverCredentials])
        self.serverProxy = serverProxy
        let serverPort = try port(in: try await serverProxy.waitForLine(timeout: .seconds(20)) { $0.contains("listener alts_in listening on ") })

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

    func stop() {
        for process in [clientProxy, serverProxy, httpbin].compactMap({ $0 }) where process.process.isRunning {
            process.process.terminate()
            process.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
