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

    @Test("a Swift server and client whose handshakes both go through handshaker services")
    func throughServices() async throws {
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
                    let port = try await transport.listeningAddress.port!
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
        }
    }

    @Test("a wrong target fails both sides promptly, with the service's details")
    func wrongTarget() async throws {
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
                    let port = try await transport.listeningAddress.port!
                    var options = ALTSHandshakeOptions()
                    options.targetServiceAccounts = ["billing@alpha.iam.gserviceaccount.com"]
                    let started = ContinuousClock.now
                    let error = await #expect(throws: ALTSHandshakeError.self) {
                        try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: .handshakerService(clientClient, options: options))
                    }
                    #expect(error?.kind == .handshakerService(
                        code: 7, details: "peer service account alts-server@alpha.iam.gserviceaccount.com is not one of the target service accounts [billing@alpha.iam.gserviceaccount.com]"))
                    #expect(ContinuousClock.now - started < .seconds(2))
                    for _ in 0..<100 where serverProvider.statistics.count(of: .failed) == 0 {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(serverProvider.statistics.count(of: .failed) == 1)
                }
            }
        }
    }

    @Test("streams over the limit get RESOURCE_EXHAUSTED; an idle stream is ended")
    func limits() async throws {
        let credentials = try TestCredentials()
        let store = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
        var limits = HandshakerServiceLimits()
        limits.maxConcurrentStreams = 1
        limits.streamIdleTimeout = .milliseconds(300)
        try await withHandshaker([store], limits: limits) { address, provider in
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: { if case .host(_, let p) = address { return p }; return 0 }()), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                let client = Grpc_Gcp_HandshakerService.Client(wrapping: grpc)
                let started = ContinuousClock.now
                // The first stream starts a handshake and then goes quiet.
                async let idle: RPCError? = {
                    do {
                        try await client.doHandshake(request: StreamingClientRequest { writer in
                            try await writer.write(Requests.clientStart())
                            try await Task.sleep(for: .seconds(5))
                        }) { response in for try await _ in response.messages {} }
                        return nil
                    } catch let error as RPCError {
                        return error
                    }
                }()
                try await Task.sleep(for: .milliseconds(100))
                let busy = await #expect(throws: RPCError.self) {
                    try await client.doHandshake(request: StreamingClientRequest { writer in
                        try await writer.write(Requests.clientStart())
                    }) { response in for try await _ in response.messages {} }
                }
                #expect(busy?.code == .resourceExhausted)
                #expect(busy?.message == "handshaker busy: 1 handshakes already in progress")
                let idleError = try await idle
                #expect(idleError?.code == .deadlineExceeded)
                #expect(ContinuousClock.now - started < .seconds(3))
                #expect(provider.statistics.count(of: .idleTimeout) == 1)
                #expect(provider.statistics.count(of: .refusedBusy) == 1)
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
