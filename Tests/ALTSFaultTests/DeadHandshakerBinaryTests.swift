import ALTSTestSupport
import Foundation
import Testing

/// The binaries in handshaker-service mode with no handshaker behind the address: each fails
/// the handshake at once with "ALTS handshaker unavailable", stays up, and works as soon as a
/// handshaker listens there (the next handshake reconnects).
@Suite("Dead handshaker service: client, server and alts-proxy binaries", .serialized)
struct DeadHandshakerBinaryTests {
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"
    static let clientAccount = "alts-client@alpha.iam.gserviceaccount.com"

    /// A loopback port nothing listens on (bound, then released).
    static func deadPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func unavailable(_ port: Int) -> String {
        #"ALTS handshaker unavailable: unavailable: "cannot connect to the handshaker service at 127.0.0.1:\#(port): connection refused""#
    }

    @Test("client: exits 1 at once with the reason; with a handshaker there, the same command works")
    func client() async throws {
        let credentials = try TestCredentials()
        let server = try await ServiceBinaries.startServer(credentials: try credentials.issue("alts-server", project: "alpha"))
        defer { Task { _ = try? await server.process.stop() } }
        let dead = try Self.deadPort()
        let arguments = ["--addr", "127.0.0.1:\(server.port)", "--targetServiceAccount", Self.serverAccount, "--handshakerService", "127.0.0.1:\(dead)", "--timeout", "20s"]
        let started = ContinuousClock.now
        let failed = try Subprocess.run(try BuiltBinary.locate("client"), arguments)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(failed.status == 1)
        #expect(failed.stdout == "")
        #expect(failed.stderrLines.last == "client: error: \(Self.unavailable(dead))", "\(failed.stderr)")

        let handshaker = try await ServiceBinaries.startHandshaker(listen: "127.0.0.1:\(dead)", credentials: try credentials.issue("alts-client", project: "alpha"))
        defer { Task { _ = try? await handshaker.process.stop() } }
        let worked = try Subprocess.run(try BuiltBinary.locate("client"), arguments)
        #expect(worked.status == 0, "\(worked.stderr)")
        #expect(worked.stdout == "UnaryEcho:  hello world\n")
        #expect(ServiceBinaries.isAlive(server.process))
    }

    @Test("server: each handshake fails with the reason in its log, the server stays up, and serves once a handshaker listens")
    func server() async throws {
        let credentials = try TestCredentials()
        let dead = try Self.deadPort()
        let server = try BackgroundProcess(
            try BuiltBinary.locate("server"), ["--port", "0", "--bind", "127.0.0.1", "--handshakerService", "127.0.0.1:\(dead)"])
        defer { Task { _ = try? await server.stop() } }
        let port = try ServiceBinaries.port(after: "listening on ", in: try await server.waitForLine(timeout: .seconds(30)) { $0.contains(" listening on ") })
        let clientCredentials = try credentials.issue("alts-client", project: "alpha")
        let arguments = ["--addr", "127.0.0.1:\(port)", "--targetServiceAccount", Self.serverAccount, "--credentials", clientCredentials, "--timeout", "20s"]

        for _ in 0..<3 {
            let started = ContinuousClock.now
            let failed = try Subprocess.run(try BuiltBinary.locate("client"), arguments)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(failed.status == 1, "\(failed.stdout)")
        }
        let logged = try await server.waitForLine(timeout: .seconds(10)) { $0.contains("ALTS handshake failed") }
        #expect(logged.contains(Self.unavailable(dead)), "\(logged)")
        #expect(server.process.isRunning)

        let handshaker = try await ServiceBinaries.startHandshaker(listen: "127.0.0.1:\(dead)", credentials: try credentials.issue("alts-server", project: "alpha"))
        defer { Task { _ = try? await handshaker.process.stop() } }
        let worked = try Subprocess.run(try BuiltBinary.locate("client"), arguments)
        #expect(worked.status == 0, "\(worked.stderr)")
        #expect(worked.stdout == "UnaryEcho:  hello world\n")
        #expect(worked.stderr.contains("AuthInfo PeerServiceAccount: \(Self.serverAccount)"), "\(worked.stderr)")
    }

    @Test("alts-proxy: an ALTS listener whose handshaker_service is down fails the handshake (the client side answers 503), stays up, and proxies once a handshaker listens")
    func proxy() async throws {
        let world = try ProxyWorld()
        defer { world.stop() }
        let dead = try Self.deadPort()
        try await world.start(serverHandshakerService: "127.0.0.1:\(dead)")
        let url = "http://127.0.0.1:\(world.clientPort)/get"
        let refused = try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", url])
        #expect(refused.stdout.hasSuffix("\n503"), "\(refused.stdout) \(refused.stderr)")
        let logged = try await world.serverProxy!.waitForLine(timeout: .seconds(10)) { $0.contains("ALTS handshake failed") }
        #expect(logged.contains(Self.unavailable(dead)), "\(logged)")
        #expect(world.serverProxy!.process.isRunning)

        let handshaker = try await ServiceBinaries.startHandshaker(listen: "127.0.0.1:\(dead)", credentials: try world.credentials.issue("alts-server", project: "alpha"))
        defer { Task { _ = try? await handshaker.process.stop() } }
        let worked = try Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", url])
        #expect(worked.stdout.hasSuffix("\n200"), "\(worked.stdout) \(worked.stderr)")
        #expect(worked.stdout.contains(Self.clientAccount), "the upstream saw the client's account: \(worked.stdout)")
    }
}
