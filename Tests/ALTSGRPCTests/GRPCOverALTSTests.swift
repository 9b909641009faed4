import ALTSGRPC
import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import GRPCCore
import NIOCore
import NIOPosix
import Testing

@Suite("gRPC over ALTS")
struct GRPCOverALTSTests {
    static let server = "alts-server@alpha.iam.gserviceaccount.com"
    static let client = "alts-client@alpha.iam.gserviceaccount.com"

    struct Fixture {
        let credentials: TestCredentials
        let serverStore: CredentialStore
        let clientStore: CredentialStore

        init() throws {
            credentials = try TestCredentials()
            serverStore = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
            clientStore = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
        }

        func clientFactory(targets: [String] = [GRPCOverALTSTests.server]) -> ALTSHandshakerFactory {
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = targets
            return .inProcess(credentials: clientStore, options: options)
        }
    }

    /// Runs an ALTS gRPC server on 127.0.0.1 for the duration of `body`.
    private func withServer<T: Sendable>(
        _ fixture: Fixture, _ body: @Sendable (ALTSServerTransport, Int) async throws -> T
    ) async throws -> T {
        let transport = ALTSServerTransport(
            address: .host("127.0.0.1", port: 0),
            handshakers: .inProcess(credentials: fixture.serverStore, options: ALTSHandshakeOptions()))
        return try await withGRPCServer(transport: transport, services: [WhoAmIService()]) { _ in
            let address = try await transport.listeningAddress
            return try await body(transport, address.port!)
        }
    }

    @Test("a unary RPC sees the client's identity on the server, and the client sees the server's")
    func unary() async throws {
        let fixture = try Fixture()
        try await withServer(fixture) { _, port in
            let transport = try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: fixture.clientFactory())
            #expect(transport.authInfo.peerServiceAccount == Self.server)
            #expect(transport.authInfo.localServiceAccount == Self.client)
            let answer = try await withGRPCClient(transport: transport) { client in
                try await ask(client, "hello world")
            }
            #expect(answer == "peer=\(Self.client) local=\(Self.server) protocol=ALTSRP_GCM_AES128_REKEY message=hello world")
        }
    }

    @Test("many RPCs, large messages, on one connection")
    func manyRPCs() async throws {
        let fixture = try Fixture()
        try await withServer(fixture) { _, port in
            let transport = try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: fixture.clientFactory())
            try await withGRPCClient(transport: transport) { client in
                let big = String(repeating: "x", count: 3 << 20)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<50 {
                        group.addTask {
                            let message = index == 0 ? big : "rpc \(index)"
                            let answer = try await ask(client, message)
                            #expect(answer.hasSuffix("message=\(message)"))
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test("a server outside the targets: connect throws a target mismatch naming both; the server goes on")
    func wrongTarget() async throws {
        let fixture = try Fixture()
        try await withServer(fixture) { _, port in
            let wanted = "billing@alpha.iam.gserviceaccount.com"
            let error = await #expect(throws: ALTSHandshakeError.self) {
                try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: fixture.clientFactory(targets: [wanted]))
            }
            #expect(error?.kind == .targetMismatch(peer: Self.server, targets: [wanted]))
            let transport = try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: fixture.clientFactory())
            let answer = try await withGRPCClient(transport: transport) { try await ask($0, "still serving") }
            #expect(answer.hasSuffix("message=still serving"))
        }
    }

    @Test("an untrusted client is refused by the server; the client is told why")
    func untrustedClient() async throws {
        let fixture = try Fixture()
        let outsider = try CredentialStore(directory: try fixture.credentials.issue("intruder", project: "gamma", trusting: ["alpha"]))
        try await withServer(fixture) { _, port in
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = [Self.server]
            // The client's side of the handshake succeeds before the server checks it; the
            // server's alert then ends the connection, and the RPC fails.
            let transport = try await ALTSClientTransport.connect(
                to: .host("127.0.0.1", port: port), handshakers: .inProcess(credentials: outsider, options: options))
            await #expect(throws: RPCError.self) {
                try await withGRPCClient(transport: transport) { try await ask($0, "let me in") }
            }
        }
    }

    @Test("connection refused is thrown from connect")
    func refused() async throws {
        let fixture = try Fixture()
        // Bind and close to get a port nobody listens on.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress!.port!
        try await probe.close()
        await #expect(throws: NIOConnectionError.self) {
            try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: fixture.clientFactory())
        }
    }

    @Test("addresses parse or say what is wrong")
    func addresses() throws {
        #expect(try ALTSAddress(parsing: "alts-server:50051") == .host("alts-server", port: 50051))
        #expect(try ALTSAddress(parsing: "[::1]:8080") == .host("::1", port: 8080))
        #expect(try ALTSAddress(parsing: "unix:/run/alts/handshaker.sock") == .unixDomainSocket(path: "/run/alts/handshaker.sock"))
        #expect(throws: ALTSAddressError(text: "localhost", reason: "expected HOST:PORT")) { try ALTSAddress(parsing: "localhost") }
        #expect(throws: ALTSAddressError(text: "h:99999", reason: "'99999' is not a port number (0-65535)")) { try ALTSAddress(parsing: "h:99999") }
    }
}

@Suite("gRPC over ALTS: an authenticated peer that never speaks HTTP/2")
struct PrefaceDeadlineOverALTSTests {
    /// Remembers, on the event loop (a task resumed later under load would skew the figure),
    /// when this client's handshake completed and when the server closed the connection.
    /// Sends `prefix` right then, from the loop: a task resumed after the server's deadline
    /// would find the connection already closed.
    private final class CloseWatch: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let prefix: String
        let authenticated: EventLoopPromise<ContinuousClock.Instant>
        let closed: EventLoopPromise<ContinuousClock.Instant>
        init(prefix: String, authenticated: EventLoopPromise<ContinuousClock.Instant>, closed: EventLoopPromise<ContinuousClock.Instant>) {
            self.prefix = prefix
            self.authenticated = authenticated
            self.closed = closed
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ALTSHandshakeCompletedEvent {
                authenticated.succeed(.now)
                if !prefix.isEmpty { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: prefix)), promise: nil) }
            }
            context.fireUserInboundEventTriggered(event)
        }
        func channelInactive(context: ChannelHandlerContext) {
            authenticated.fail(ChannelError.eof)  // a no-op once the handshake completed
            closed.succeed(.now)
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    @Test("after a successful handshake, no preface or 10 bytes of it: the server closes the connection at prefaceTimeout and serves on", .timeLimit(.minutes(1)))
    func silentAuthenticatedPeer() async throws {
        let fixture = try GRPCOverALTSTests.Fixture()
        var config = ALTSServerTransport.Config()
        config.prefaceTimeout = .seconds(1)
        let transport = ALTSServerTransport(
            address: .host("127.0.0.1", port: 0), handshakers: .inProcess(credentials: fixture.serverStore, options: ALTSHandshakeOptions()), config: config)
        try await withGRPCServer(transport: transport, services: [WhoAmIService()]) { _ in
            let port = try await transport.listeningAddress.port!
            for prefix in ["", "PRI * HTTP"] {
                let group = MultiThreadedEventLoopGroup.singleton
                let closed = group.any().makePromise(of: ContinuousClock.Instant.self)
                let completed = group.any().makePromise(of: ContinuousClock.Instant.self)
                let handshake = group.any().makePromise(of: ALTSAuthInfo.self)
                let factory = fixture.clientFactory()
                _ = try await ClientBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addALTSHandlers(role: .client, factory: factory).cascade(to: handshake)
                            try channel.pipeline.syncOperations.addHandler(CloseWatch(prefix: prefix, authenticated: completed, closed: closed))
                        }
                    }
                    .connect(host: "127.0.0.1", port: port).get()
                let info = try await handshake.futureResult.get()
                // The client completes one flight before the server, whose clock starts later.
                let authenticated = try await completed.futureResult.get()
                #expect(info.peerServiceAccount == GRPCOverALTSTests.server)
                let closedAt = try await closed.futureResult.get()
                let waited = closedAt - authenticated
                #expect(waited >= .milliseconds(900) && waited < .seconds(10), "closed \(waited) after the handshake (\(prefix.count) bytes sent)")
            }
            // Still serving.
            let client = try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: fixture.clientFactory())
            let answer = try await withGRPCClient(transport: client) { try await ask($0, "still here") }
            #expect(answer.hasSuffix("message=still here"))
        }
    }
}
