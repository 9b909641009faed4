import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

@Suite("ALTS handshake over loopback TCP")
struct HandshakeSocketTests {
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"
    static let clientAccount = "alts-client@alpha.iam.gserviceaccount.com"

    @Test("both roles authenticate with exact identities; data written early arrives after")
    func success() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential)
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = [Self.serverAccount]
            let client = try await connectALTSClient(group: group, port: server.port, credential: clientCredential, options: options)
            let clientInfo = try await client.authenticated.get()
            #expect(clientInfo.peerServiceAccount == Self.serverAccount)
            #expect(clientInfo.localServiceAccount == Self.clientAccount)
            #expect(clientInfo.recordProtocol == "ALTSRP_GCM_AES128_REKEY")
            #expect(clientInfo.applicationProtocol == "grpc")
            #expect(clientInfo.securityLevel == .integrityAndPrivacy)
            #expect(clientInfo.peerAttributes["spiffe_id"] == "spiffe://alpha/sa/alts-server")
            #expect(try await client.echoed.get() == "hello over ALTS")
            let serverInfo = try await server.accepted.connection(0).get()
            #expect(serverInfo.peerServiceAccount == Self.clientAccount)
            #expect(serverInfo.localServiceAccount == Self.serverAccount)
            try await client.channel.close()
            try await server.channel.close()
        }
    }

    @Test("what a handler writes on the completion event is sealed, never sent in the clear")
    func writeOnCompletion() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let driver = ALTSInProcessHandshakeDriver(handshaker: try ALTSHandshaker(role: .server, credential: serverCredential))
                        try channel.pipeline.syncOperations.addHandlers([ALTSHandshakeHandler(role: .server, driver: driver), WelcomeOnCompletion()])
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            // The client sends nothing; it only listens for the server's welcome.
            let client = try await connectALTSClient(group: group, port: server.localAddress!.port!, credential: clientCredential, greeting: "welcome")
            #expect(try await client.echoed.get() == "welcome")
            try await client.channel.close()
            try await server.close()
        }
    }

    @Test("a wrong target fails the client with both accounts named; the server is told at once")
    func wrongTarget() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential)
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = ["billing@alpha.iam.gserviceaccount.com"]
            let client = try await connectALTSClient(group: group, port: server.port, credential: clientCredential, options: options)
            let clientError = try #require(await outcome(client.authenticated).failure as? ALTSHandshakeError)
            #expect(clientError.kind == .targetMismatch(peer: Self.serverAccount, targets: ["billing@alpha.iam.gserviceaccount.com"]))
            let started = ContinuousClock.now
            let serverError = try #require(await outcome(try await server.accepted.connection(0)).failure as? ALTSHandshakeError)
            #expect(serverError.kind == .peerAlert(.accessDenied))
            #expect(ContinuousClock.now - started < .seconds(2))
            try await server.channel.close()
        }
    }

    @Test("an expired server certificate: the client says certificate expired")
    func expiredServer() async throws {
        let credentials = try TestCredentials()
        let expired = try credentials.credential("alts-server", project: "alpha", ttl: 86_400, issuedAt: Date().addingTimeInterval(-3 * 86_400))
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: expired)
            let client = try await connectALTSClient(group: group, port: server.port, credential: clientCredential)
            let error = try #require(await outcome(client.authenticated).failure as? ALTSHandshakeError)
            guard case .certificateExpired = error.kind else { Issue.record("got \(error)"); return }
            #expect(error.description.hasPrefix("peer certificate expired at "))
            #expect((await outcome(try await server.accepted.connection(0)).failure as? ALTSHandshakeError)?.kind == .peerAlert(.certificateExpired))
            try await server.channel.close()
        }
    }

    @Test("a valid account of another project is refused unless its project is federated")
    func otherProject() async throws {
        let credentials = try TestCredentials()
        let outsider = try credentials.credential("intruder", project: "gamma", trusting: ["alpha"])
        let plainServer = try credentials.credential("alts-server", project: "alpha")
        let federatedServer = try credentials.credential("alts-server2", project: "alpha", trusting: ["gamma"])
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: plainServer)
            let client = try await connectALTSClient(group: group, port: server.port, credential: outsider)
            let serverError = try #require(await outcome(try await server.accepted.connection(0)).failure as? ALTSHandshakeError)
            #expect(serverError.kind == .untrustedIssuer(issuer: "CN=swift-alts project gamma"))
            // The client finished its side first; the server's alert reaches it as its first bytes.
            let echoError = try #require(await outcome(client.echoed).failure as? ALTSHandshakeError)
            #expect(echoError.kind == .peerAlert(.unknownIssuer))
            try await server.channel.close()

            let federated = try await ALTSEchoServer(group: group, credential: federatedServer)
            let welcome = try await connectALTSClient(group: group, port: federated.port, credential: outsider)
            #expect(try await welcome.echoed.get() == "hello over ALTS")
            #expect(try await federated.accepted.connection(0).get().peerServiceAccount == "intruder@gamma.iam.gserviceaccount.com")
            try await welcome.channel.close()
            try await federated.channel.close()
        }
    }

    @Test("garbage bytes get a decode_error alert and a closed connection; the server goes on")
    func garbage() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential)
            let raw = try await rawExchange(group: group, port: server.port, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(try await raw.closed.get() == [21, 0, 0, 1, ALTSHandshakeAlert.decodeError.rawValue])
            let error = try #require(await outcome(try await server.accepted.connection(0)).failure as? ALTSHandshakeError)
            #expect(error.kind == .messageTooLarge(length: 4 + 0x455420, limit: 65_536))
            let client = try await connectALTSClient(group: group, port: server.port, credential: clientCredential)
            #expect(try await client.echoed.get() == "hello over ALTS")
            try await client.channel.close()
            try await server.channel.close()
        }
    }

    @Test("a truncated handshake times out and frees the connection")
    func truncated() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        let clientInit = try ALTSHandshaker(role: .client, credential: clientCredential).start().outBytes
        var configuration = ALTSHandshakeHandler.Configuration()
        configuration.handshakeTimeout = .seconds(1)
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential, configuration: configuration)
            let started = ContinuousClock.now
            let raw = try await rawExchange(group: group, port: server.port, bytes: Array(clientInit.prefix(40)))
            let error = try #require(await outcome(try await server.accepted.connection(0)).failure as? ALTSChannelError)
            #expect(error.kind == .handshakeTimeout(seconds: 1))
            #expect(try await raw.closed.get() == [])  // closed, slot freed
            #expect(ContinuousClock.now - started < .seconds(6))
            try await server.channel.close()
        }
    }

    @Test("a relay flipping one handshake byte makes both ends fail", arguments: [true, false])
    func tamperingRelay(clientToServer: Bool) async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        var configuration = ALTSHandshakeHandler.Configuration()
        configuration.handshakeTimeout = .milliseconds(500)
        // Header, body and tag bytes of each message, sampled: every byte is covered by the
        // in-memory test in ALTSHandshakeTests; this checks the channel-level behaviour.
        let positions = clientToServer ? [0, 3, 5, 40, 100, 124, 127, 200, 400, 600, 700] : [0, 2, 4, 40, 90, 130, 200, 400, 700, 790]
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential, configuration: configuration)
            for (index, position) in positions.enumerated() {
                let relay = try await TamperingRelay(group: group, upstreamPort: server.port, flipAt: position, clientToServerDirection: clientToServer)
                let client = try await connectALTSClient(group: group, port: relay.port, credential: clientCredential, configuration: configuration)
                let clientOutcome = await outcome(client.echoed)
                let serverOutcome = await outcome(try await server.accepted.connection(index))
                #expect(clientOutcome.isFailure, "position \(position): client exchanged data")
                #expect(serverOutcome.isFailure, "position \(position): server authenticated")
                // Caught by the protocol, not merely by the timeout: at least one side names a
                // handshake error (the other may see the alert or the close).
                let named = [clientOutcome.failure, serverOutcome.failure].contains { $0 is ALTSHandshakeError }
                #expect(named, "position \(position): \(String(describing: clientOutcome.failure)) / \(String(describing: serverOutcome.failure))")
                try? await relay.channel.close()
            }
            try await server.channel.close()
        }
    }

    @Test("a recorded client handshake replayed to a new connection gets no session")
    func replay() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential)
            let relay = try await TamperingRelay(group: group, upstreamPort: server.port, flipAt: nil, clientToServerDirection: true)
            let client = try await connectALTSClient(group: group, port: relay.port, credential: clientCredential)
            #expect(try await client.echoed.get() == "hello over ALTS")
            try await client.channel.close()
            let recorded = relay.clientToServer.all
            #expect(recorded.count > 500)
            let raw = try await rawExchange(group: group, port: server.port, bytes: recorded)
            let error = try #require(await outcome(try await server.accepted.connection(1)).failure as? ALTSHandshakeError)
            #expect(error.kind == .decryptionFailed(message: "ClientAuth"))
            let reply = try await raw.closed.get()
            #expect(reply.suffix(5) == [21, 0, 0, 1, ALTSHandshakeAlert.decryptError.rawValue])
            try await relay.channel.close()
            try await server.channel.close()
        }
    }

    @Test("200 concurrent handshakes all succeed")
    func concurrent() async throws {
        let credentials = try TestCredentials()
        let serverCredential = try credentials.credential("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        try await withEventLoopGroup(threads: 2) { group in
            let server = try await ALTSEchoServer(group: group, credential: serverCredential)
            let accounts = try await withThrowingTaskGroup(of: String.self) { tasks in
                for index in 0..<200 {
                    tasks.addTask {
                        let client = try await connectALTSClient(group: group, port: server.port, credential: clientCredential, greeting: "client \(index)")
                        let echoed = try await client.echoed.get()
                        let info = try await client.authenticated.get()
                        try await client.channel.close()
                        return echoed == "client \(index)" ? info.peerServiceAccount : "mismatch"
                    }
                }
                var accounts: [String] = []
                for try await account in tasks { accounts.append(account) }
                return accounts
            }
            #expect(accounts.count == 200)
            #expect(Set(accounts) == [Self.serverAccount])
            for future in server.accepted.all {
                #expect(try await future.get().peerServiceAccount == Self.clientAccount)
            }
            try await server.channel.close()
        }
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
    var failure: Failure? { if case .failure(let error) = self { return error } else { return nil } }
}

/// Writes "welcome" the moment its connection's handshake completes.
private final class WelcomeOnCompletion: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ALTSHandshakeCompletedEvent {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "welcome")), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
