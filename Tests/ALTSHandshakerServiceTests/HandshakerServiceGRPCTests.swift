import ALTSGRPC
import ALTSHandshake
import ALTSHandshakerProto
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing

@Suite("Handshaker service over gRPC")
struct HandshakerServiceGRPCTests {
    /// Runs a handshaker service for `identities` on 127.0.0.1 during `body`.
    private func withHandshaker<T: Sendable>(
        _ identities: [CredentialStore], limits: HandshakerServiceLimits = .init(),
        _ body: @Sendable (ALTSAddress, ALTSHandshakerServiceProvider) async throws -> T
    ) async throws -> T {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let provider = ALTSHandshakerServiceProvider(identities: identities, limits: limits)
        return try await withGRPCServer(transport: transport, services: [provider]) { _ in
            let port = try await transport.listeningAddress.ipv4!.port
            return try await body(.host("127.0.0.1", port: port), provider)
        }
    }

    /// An ALTS gRPC server whose handshakes go through one handshaker service, and a second
    /// handshaker service for the client: `body` gets the server's port, the client's
    /// handshaker-service connection and the server-side provider.
    private func withServiceBackedServer(
        _ body: @Sendable (Int, ALTSHandshakerServiceClient, ALTSHandshakerServiceProvider) async throws -> Void
    ) async throws {
        let credentials = try TestCredentials()
        let serverStore = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        let clientStore = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
        try await withHandshaker([serverStore]) { serverHandshaker, serverProvider in
            try await withHandshaker([clientStore]) { clientHandshaker, _ in
                let serverClient = try ALTSHandshakerServiceClient(address: serverHandshaker)
                let clientClient = try ALTSHandshakerServiceClient(address: clientHandshaker)
                defer { serverClient.shutdown(); clientClient.shutdown() }
                let transport = ALTSServerTransport(
                    address: .host("127.0.0.1", port: 0), handshakers: .handshakerService(serverClient, options: ALTSHandshakeOptions()))
                try await withGRPCServer(transport: transport, services: [PeerEchoService()]) { _ in
                    try await body(try await transport.listeningAddress.port!, clientClient, serverProvider)
                }
            }
        }
    }

    @Test("a Swift server and client whose handshakes both go through handshaker services")
    func throughServices() async throws {
        try await withServiceBackedServer { port, clientClient, serverProvider in
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = ["alts-server@alpha.iam.gserviceaccount.com"]
            let client = try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: .handshakerService(clientClient, options: options))
            #expect(client.authInfo.peerServiceAccount == "alts-server@alpha.iam.gserviceaccount.com")
            #expect(client.authInfo.localServiceAccount == "alts-client@alpha.iam.gserviceaccount.com")
            let answer = try await withGRPCClient(transport: client) { try await PeerEchoService.ask($0, "via handshakers") }
            #expect(answer == "alts-client@alpha.iam.gserviceaccount.com:via handshakers")
            #expect(serverProvider.statistics.count(of: .succeeded) == 1)
        }
    }

    @Test("a wrong target fails both sides promptly, with the service's details")
    func wrongTarget() async throws {
        try await withServiceBackedServer { port, clientClient, serverProvider in
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = ["billing@alpha.iam.gserviceaccount.com"]
            var config = ALTSClientTransport.Config()
            config.handshake.handshakeTimeout = .seconds(20)
            // Prompt means far below the 20 s timeout; a load spike on a 2-core machine
            // may stretch one attempt, a hang would stretch them all.
            var fastest = Duration.seconds(100)
            for attempt in 1...3 where fastest >= .seconds(2) {
                let started = ContinuousClock.now
                let error = await #expect(throws: ALTSHandshakeError.self) {
                    try await ALTSClientTransport.connect(
                        to: .host("127.0.0.1", port: port), handshakers: .handshakerService(clientClient, options: options), config: config)
                }
                fastest = min(fastest, ContinuousClock.now - started)
                #expect(error?.kind == .handshakerService(
                    code: 7, details: "peer service account alts-server@alpha.iam.gserviceaccount.com is not one of the target service accounts [billing@alpha.iam.gserviceaccount.com]"))
                for _ in 0..<250 where serverProvider.statistics.count(of: .failed) < attempt {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(serverProvider.statistics.count(of: .failed) == attempt)
            }
            #expect(fastest < .seconds(2))
        }
    }

    private func port(of address: ALTSAddress) -> Int {
        if case .host(_, let port) = address { return port }
        return 0
    }

    /// Opens a DoHandshake stream that sends client_start, then stays silent until cancelled
    /// or ended by the service; `answered` fires once the service has replied.
    private func quietStream(_ client: Grpc_Gcp_HandshakerService.Client<HTTP2ClientTransport.Posix>, answered: AsyncStream<Void>.Continuation) async -> RPCError? {
        do {
            try await client.doHandshake(request: StreamingClientRequest { writer in
                try await writer.write(Requests.clientStart())
                try await Task.sleep(for: .seconds(60))
            }) { response in
                for try await _ in response.messages { answered.yield() }
            }
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return nil
        }
    }

    @Test("streams over the concurrency limit get RESOURCE_EXHAUSTED")
    func concurrencyLimit() async throws {
        let credentials = try TestCredentials()
        let store = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
        var limits = HandshakerServiceLimits()
        limits.maxConcurrentStreams = 1
        try await withHandshaker([store], limits: limits) { address, provider in
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port(of: address)), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                let client = Grpc_Gcp_HandshakerService.Client(wrapping: grpc)
                let (firstAnswered, answered) = AsyncStream.makeStream(of: Void.self)
                let holder = Task { await quietStream(client, answered: answered) }
                // Only once the service has answered is the first stream surely holding its slot.
                for await _ in firstAnswered { break }
                let busy = await #expect(throws: RPCError.self) {
                    try await client.doHandshake(request: StreamingClientRequest { writer in
                        try await writer.write(Requests.clientStart())
                    }) { response in for try await _ in response.messages {} }
                }
                #expect(busy?.code == .resourceExhausted)
                #expect(busy?.message == "handshaker busy: 1 handshakes already in progress")
                #expect(provider.statistics.count(of: .refusedBusy) == 1)
                holder.cancel()
                _ = await holder.value
            }
        }
    }

    @Test("a stream idle past the timeout is ended with DEADLINE_EXCEEDED")
    func idleTimeout() async throws {
        let credentials = try TestCredentials()
        let store = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
        var limits = HandshakerServiceLimits()
        limits.streamIdleTimeout = .milliseconds(500)
        try await withHandshaker([store], limits: limits) { address, provider in
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port(of: address)), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                let client = Grpc_Gcp_HandshakerService.Client(wrapping: grpc)
                let (_, answered) = AsyncStream.makeStream(of: Void.self)
                let started = ContinuousClock.now
                let error = await quietStream(client, answered: answered)
                #expect(error?.code == .deadlineExceeded)
                #expect(error?.message == "no handshake request for 0.5 seconds")
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(provider.statistics.count(of: .idleTimeout) == 1)
            }
        }
    }
}

/// Answers with the caller's service account and the message.
struct PeerEchoService: RegistrableRPCService {
    static let method = MethodDescriptor(fullyQualifiedService: "test.PeerEcho", method: "Ask")

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Self.method, deserializer: Coder(), serializer: Coder()) { request, context in
            var message = ""
            for try await part in request.messages { message += part }
            return StreamingServerResponse(single: ServerResponse(message: "\(context.altsAuthInfo?.peerServiceAccount ?? "?"):\(message)"))
        }
    }

    static func ask<T: ClientTransport>(_ client: GRPCClient<T>, _ message: String) async throws -> String {
        try await client.unary(request: ClientRequest(message: message), descriptor: method, serializer: Coder(), deserializer: Coder(), options: .defaults) { try $0.message }
    }

    struct Coder: MessageSerializer, MessageDeserializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes { Bytes(Array(message.utf8)) }
        func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> String { bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
    }
}
