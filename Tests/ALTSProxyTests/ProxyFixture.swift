import ALTSIdentity
import ALTSProxy
import ALTSProxyConfig
import ALTSTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix

/// curl → client proxy (plain HTTP in, ALTS out) → server proxy (ALTS in) → httpbin, all on
/// loopback: the seed's two-Envoy shape with our proxies, each handshaking in process with
/// its own service account (the `--alts-credentials` extension).
final class ProxyPair: @unchecked Sendable {
    static let clientAccount = "alts-client@alpha.iam.gserviceaccount.com"
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"

    let credentials: TestCredentials
    let group: MultiThreadedEventLoopGroup
    let httpbin: BackgroundProcess
    let httpbinPort: Int
    let server: ALTSProxyServer
    let client: ALTSProxyServer
    let serverPort: Int
    let clientPort: Int
    let clientAdminPort: Int
    let serverAdminPort: Int

    struct Options {
        /// What the client proxy's cluster accepts as the server (Envoy's peer_service_accounts).
        var serverAccountsExpectedByClient = [ProxyPair.serverAccount]
        var clientAccountsExpectedByServer = [ProxyPair.clientAccount]
        var routeTimeout: Duration? = .seconds(15)
        var upstreamProtocol: Cluster.UpstreamProtocol = .http1
        var tcpProxy = false
        var requestHeadersToAdd: [HeaderValueOption] = []
    }

    init(_ options: Options = Options()) async throws {
        credentials = try TestCredentials()
        let serverStore = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        let clientStore = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

        httpbin = try BackgroundProcess(try BuiltBinary.locate("httpbin"), ["--listen", "127.0.0.1:0"])
        let line = try await httpbin.waitForLine(timeout: .seconds(20)) { $0.contains("httpbin listening on ") }
        httpbinPort = Int(line.split(separator: ":").last!)!

        var logger = Logger(label: "proxy-test")
        logger.logLevel = .warning
        let socketToClient = ALTSTransportSocketConfig(handshakerService: "127.0.0.1:1", peerServiceAccounts: options.clientAccountsExpectedByServer)
        let socketToServer = ALTSTransportSocketConfig(handshakerService: "127.0.0.1:1", peerServiceAccounts: options.serverAccountsExpectedByClient)
        let serverBootstrap = ProxyBootstrap(
            admin: SocketAddressSpec(address: "127.0.0.1", port: 0),
            listeners: [Self.listener("alts_in", socket: socketToClient, cluster: "app", statPrefix: "server_http", timeout: options.routeTimeout, tcpProxy: options.tcpProxy, headers: options.requestHeadersToAdd)],
            clusters: [Cluster(name: "app", connectTimeout: .seconds(2), endpoints: [SocketAddressSpec(address: "127.0.0.1", port: httpbinPort)])]
        )
        server = ALTSProxyServer(bootstrap: serverBootstrap, handshakes: .embedded(serverStore), group: group, logger: logger)
        let serverBound = try await server.start()
        serverPort = serverBound.listeners[0].address.port!
        serverAdminPort = serverBound.admin!.port!

        let clientBootstrap = ProxyBootstrap(
            admin: SocketAddressSpec(address: "127.0.0.1", port: 0),
            listeners: [Self.listener("http_in", socket: nil, cluster: "alts_server", statPrefix: "client_http", timeout: options.routeTimeout, tcpProxy: options.tcpProxy, headers: [])],
            clusters: [Cluster(
                name: "alts_server", connectTimeout: .seconds(2), endpoints: [SocketAddressSpec(address: "127.0.0.1", port: serverPort)],
                upstreamProtocol: options.upstreamProtocol, transportSocket: socketToServer
            )]
        )
        client = ALTSProxyServer(bootstrap: clientBootstrap, handshakes: .embedded(clientStore), group: group, logger: logger)
        let clientBound = try await client.start()
        clientPort = clientBound.listeners[0].address.port!
        clientAdminPort = clientBound.admin!.port!
    }

    static func listener(_ name: String, socket: ALTSTransportSocketConfig?, cluster: String, statPrefix: String, timeout: Duration?, tcpProxy: Bool, headers: [HeaderValueOption]) -> Listener {
        let filter: NetworkFilter
        if tcpProxy {
            filter = .tcpProxy(TCPProxyConfig(statPrefix: statPrefix, cluster: cluster))
        } else {
            filter = .httpConnectionManager(HTTPConnectionManagerConfig(
                statPrefix: statPrefix,
                routeConfig: RouteConfig(virtualHosts: [
                    VirtualHost(name: "loopback", domains: ["127.0.0.1", "localhost"], routes: [
                        Route(match: .prefix("/"), action: RouteAction(cluster: cluster, timeout: timeout), requestHeadersToAdd: headers),
                    ]),
                ])
            ))
        }
        return Listener(name: name, address: SocketAddressSpec(address: "127.0.0.1", port: 0), filterChain: FilterChain(transportSocket: socket, filter: filter))
    }

    func stop() async {
        await client.shutdown()
        await server.shutdown()
        _ = try? await httpbin.stop()
        try? await group.shutdownGracefully()
    }

    /// curl against the client proxy; `-sS -i` so that the status line and headers are there.
    func curl(_ path: String, _ extra: [String] = [], port: Int? = nil) throws -> ProcessResult {
        try Subprocess.run("/usr/bin/curl", ["-sS", "-i", "--max-time", "30"] + extra + ["http://127.0.0.1:\(port ?? clientPort)\(path)"])
    }

    func admin(_ path: String, port: Int) throws -> String {
        try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)\(path)"]).stdout
    }
}

/// The body of an HTTP response printed by `curl -i` (after the last header block).
func responseBody(_ output: String) -> String {
    guard let range = output.range(of: "\r\n\r\n", options: .backwards) else { return output }
    return String(output[range.upperBound...])
}

/// The final status line of `curl -i` output: interim 1xx responses (100 Continue) are
/// skipped, and curl's trailing space after an HTTP/2 status code is dropped.
func statusLine(_ output: String) -> String {
    // Not prefix(while:): in Swift "\r\n" is one Character, never equal to "\r".
    let blocks = output.components(separatedBy: "\r\n\r\n")
    let final = blocks.first { block in
        let code = block.split(separator: " ", maxSplits: 2).dropFirst().first
        return !(code?.hasPrefix("1") ?? false)
    } ?? output
    let line = final.components(separatedBy: "\r\n")[0]
    return line.hasSuffix(" ") ? String(line.dropLast()) : line
}

func jsonObject(_ text: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
}
