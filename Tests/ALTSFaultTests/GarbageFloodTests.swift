import ALTSGRPC
import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

/// 10,000 connections of random bytes against each service binary: every one must be closed
/// by the service, and the service must answer a real request afterwards.
@Suite("Garbage connections against the service binaries", .serialized)
struct GarbageFloodTests {
    static let connections = 10_000
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"
    static let clientAccount = "alts-client@alpha.iam.gserviceaccount.com"

    private func flood(port: Int, seed: UInt64) async throws {
        let outcome = try await withEventLoopGroup { group in
            await GarbageFlood.run(port: port, count: Self.connections, concurrency: 64, seed: seed, group: group)
        }
        print("garbage flood against port \(port): \(outcome)")
        #expect(outcome.closedByService == Self.connections, "\(outcome)")
        #expect(outcome.leftOpen == 0, "\(outcome)")
        #expect(outcome.refused == [], "\(outcome)")
    }

    @Test("server: 10,000 garbage connections are all closed; the client still gets 'UnaryEcho:  hello world'")
    func server() async throws {
        let credentials = try TestCredentials()
        let serverDirectory = try credentials.issue("alts-server", project: "alpha")
        let clientDirectory = try credentials.issue("alts-client", project: "alpha")
        // A short handshake timeout bounds the few garbage prefixes that read as a plausible
        // handshake header and then wait for a body that never comes.
        let server = try await ServiceBinaries.startServer(credentials: serverDirectory, arguments: ["--handshake-timeout", "3s"])
        try await flood(port: server.port, seed: 0x5EED_0001)
        #expect(ServiceBinaries.isAlive(server.process))
        let client = try Subprocess.run(try BuiltBinary.locate("client"), [
            "--addr", "127.0.0.1:\(server.port)", "--targetServiceAccount", Self.serverAccount, "--credentials", clientDirectory,
        ])
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout == "UnaryEcho:  hello world\n")
        #expect(try await server.process.stop() == 0)
    }

    @Test("alts-proxy ALTS listener: 10,000 garbage connections are all closed; curl through the proxy pair still gets httpbin")
    func proxy() async throws {
        let world = try ProxyWorld()
        defer { world.stop() }
        try await world.start(serverProxyArguments: ["--handshake-timeout", "3s"])
        try await flood(port: world.serverPort, seed: 0x5EED_0002)
        #expect(ServiceBinaries.isAlive(world.serverProxy!))
        let curl = try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "10", "-w", "\n%{http_code}", "http://127.0.0.1:\(world.clientPort)/get"])
        #expect(curl.status == 0, "\(curl.stderr)")
        #expect(curl.stdout.hasSuffix("\n200"), "\(curl.stdout)")
        #expect(curl.stdout.contains(Self.clientAccount), "the server proxy's identity header reaches httpbin: \(curl.stdout)")
    }

    @Test("handshaker: 10,000 garbage connections are all closed; a handshake through it still succeeds")
    func handshaker() async throws {
        let credentials = try TestCredentials()
        let clientDirectory = try credentials.issue("alts-client", project: "alpha")
        let serverStore = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        // Garbage of 23 bytes or fewer is an incomplete HTTP/2 preface: closed at this deadline.
        let handshaker = try await ServiceBinaries.startHandshaker(credentials: clientDirectory, arguments: ["--preface-timeout", "3s"])
        try await flood(port: handshaker.port, seed: 0x5EED_0003)
        #expect(ServiceBinaries.isAlive(handshaker.process))

        try await withEventLoopGroup(threads: 1) { group in
            let server = try await LoopbackALTSServer(group: group, handshakers: .inProcess(credentials: serverStore, options: ALTSHandshakeOptions()))
            let service = try ALTSHandshakerServiceClient(address: .host("127.0.0.1", port: handshaker.port))
            defer { service.shutdown() }
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = [Self.serverAccount]
            let transport = try await ALTSClientTransport.connect(
                to: .host("127.0.0.1", port: server.port), handshakers: .handshakerService(service, options: options), eventLoopGroup: group)
            #expect(transport.authInfo.peerServiceAccount == Self.serverAccount)
            #expect(transport.authInfo.localServiceAccount == Self.clientAccount)
            let trace = try await server.connection(0)
            try await eventually("the server side authenticated") { trace.authenticated != nil }
            #expect(trace.authenticated?.peerServiceAccount == Self.clientAccount)
            transport.beginGracefulShutdown()
            try await server.channel.close()
            #expect(try await handshaker.process.stop() == 0)
        }
    }
}
