import ALTSTestSupport
import Foundation
import Testing

@Suite("helloworld binaries on loopback", .serialized)
struct HelloWorldBinaryTests {
    @Test("client and server log each other's accounts; the client prints UnaryEcho with two spaces")
    func helloWorld() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        let result = try fixture.client([
            "--addr", "127.0.0.1:\(fixture.port)", "--targetServiceAccount", fixture.serverAccount,
            "--credentials", fixture.clientCredentials,
        ])
        #expect(result.status == 0)
        #expect(result.stdout == "UnaryEcho:  hello world\n")
        #expect(result.stderrLines.count == 2)
        #expect(isGoLogLine(result.stderrLines[0], "AuthInfo PeerServiceAccount: \(fixture.serverAccount)"), "\(result.stderrLines)")
        #expect(isGoLogLine(result.stderrLines[1], "AuthInfo LocalServiceAccount: \(fixture.clientAccount)"), "\(result.stderrLines)")
        let server = try #require(fixture.server)
        let peerLine = try await server.waitForLine { $0.contains("AuthInfo PeerServiceAccount") }
        #expect(isGoLogLine(peerLine, "AuthInfo PeerServiceAccount: \(fixture.clientAccount)"))
        let localLine = try await server.waitForLine { $0.contains("AuthInfo LocalServiceAccount") }
        #expect(isGoLogLine(localLine, "AuthInfo LocalServiceAccount: \(fixture.serverAccount)"))
        #expect(try await server.stop() == 0)
    }

    @Test("--message, and no target: any server in the trust bundle, and the client says so")
    func noTarget() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        let result = try fixture.client(["--addr", "127.0.0.1:\(fixture.port)", "--message", "bonjour", "--credentials", fixture.clientCredentials])
        #expect(result.status == 0)
        #expect(result.stdout == "UnaryEcho:  bonjour\n")
        #expect(isGoLogLine(result.stderrLines.first ?? "", "no --targetServiceAccount given: accepting any server account the trust bundle vouches for"))
        _ = try await fixture.server?.stop()
    }

    @Test("a wrong target exits 1 with one line naming both accounts")
    func wrongTarget() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        let wanted = "billing@\(fixture.project).iam.gserviceaccount.com"
        let result = try fixture.client([
            "--addr", "127.0.0.1:\(fixture.port)", "--targetServiceAccount", wanted, "--credentials", fixture.clientCredentials,
        ])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "client: error: ALTS handshake failed: peer service account \(fixture.serverAccount) is not one of the target service accounts [\(wanted)]\n")
        let server = try #require(fixture.server)
        let logged = try await server.waitForLine { $0.contains("ALTS handshake failed") }
        #expect(logged.contains("error=peer aborted the handshake: access_denied"), "\(logged)")
        _ = try await server.stop()
    }

    @Test("with the server down the client fails within its timeout")
    func serverDown() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        let port = fixture.port
        #expect(try await fixture.server?.stop() == 0)
        let started = ContinuousClock.now
        let result = try fixture.client(["--addr", "127.0.0.1:\(port)", "--timeout", "3s", "--credentials", fixture.clientCredentials])
        #expect(ContinuousClock.now - started < .seconds(6))
        #expect(result.status == 1)
        #expect(result.stderrLines.last == "client: error: connection refused: nothing is listening on 127.0.0.1:\(port)")
    }

    @Test("a server that never answers the handshake: the client gives up at its timeout")
    func silentServer() throws {
        let fixture = try HelloWorldFixture()
        // A listening socket nobody accepts from: TCP connects, the handshake never answers.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let started = ContinuousClock.now
        let result = try fixture.client(["--addr", "127.0.0.1:\(port)", "--timeout", "2s", "--credentials", fixture.clientCredentials])
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(6), "\(elapsed)")
        #expect(result.status == 1)
        #expect(result.stderrLines.last?.hasPrefix("client: error: ") == true)
        #expect(result.stderrLines.last?.contains("timed out after 2s") == true, "\(result.stderr)")
    }

    @Test("an untrusted client gets a clear error; the server logs why and keeps serving")
    func untrustedClient() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        let outsiderProject = "outsider-\(Int.random(in: 1000...9999))"
        try fixture.run(fixture.altsctl, "projects", "create", outsiderProject, "--dir", fixture.directory + "/projects")
        let outsider = fixture.directory + "/outsider"
        try fixture.run(fixture.altsctl, "service-accounts", "create", "intruder", "--project", outsiderProject, "--dir", fixture.directory + "/projects", "--out", outsider)
        // The outsider trusts the server's project, so it is the server that refuses.
        try fixture.run(fixture.altsctl, "bundles", "add", "--trust", fixture.directory + "/projects/\(fixture.project)/ca.pem", "--dir", outsider)
        let refused = try fixture.client(["--addr", "127.0.0.1:\(fixture.port)", "--targetServiceAccount", fixture.serverAccount, "--credentials", outsider])
        #expect(refused.status == 1)
        #expect(refused.stderrLines.last?.hasPrefix("client: error: ") == true)
        #expect(refused.stderrLines.last?.contains("unknown_issuer") == true, "\(refused.stderr)")
        let server = try #require(fixture.server)
        let reason = try await server.waitForLine { $0.contains("ALTS handshake failed") }
        #expect(reason.contains("error=peer certificate issuer 'CN=swift-alts project \(outsiderProject)' is not in the trust bundle"), "\(reason)")
        let welcome = try fixture.client(["--addr", "127.0.0.1:\(fixture.port)", "--targetServiceAccount", fixture.serverAccount, "--credentials", fixture.clientCredentials])
        #expect(welcome.stdout == "UnaryEcho:  hello world\n")
        _ = try await server.stop()
    }

    @Test("credentials from $ALTS_CREDENTIALS; without any, an error that says how to make them")
    func credentialLookup() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        var environment = ProcessInfo.processInfo.environment
        environment["ALTS_CREDENTIALS"] = fixture.clientCredentials
        let fromEnvironment = try fixture.client(["--addr", "127.0.0.1:\(fixture.port)", "--targetServiceAccount", fixture.serverAccount], environment: environment)
        #expect(fromEnvironment.stdout == "UnaryEcho:  hello world\n")
        environment["ALTS_CREDENTIALS"] = fixture.directory + "/missing"
        let missing = try fixture.client(["--addr", "127.0.0.1:\(fixture.port)"], environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("client: error: credentials directory \(fixture.directory)/missing (from $ALTS_CREDENTIALS) does not exist; create one with: altsctl projects create"))
        _ = try await fixture.server?.stop()
    }

    @Test("SIGINT drains the server and it exits 0")
    func gracefulShutdown() async throws {
        let fixture = try HelloWorldFixture()
        try await fixture.startServer()
        let server = try #require(fixture.server)
        let started = ContinuousClock.now
        #expect(try await server.stop(signal: SIGINT) == 0)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(server.stderrLines.last.map { isGoLogLine($0, "server stopped") } == true, "\(server.stderr)")
    }
}
