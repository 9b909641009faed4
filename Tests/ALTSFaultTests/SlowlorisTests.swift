import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Testing

/// A client that keeps a handshake alive by sending it one byte at a time.
@Suite("Slowloris handshakes")
struct SlowlorisTests {
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"

    @Test("a handshake dribbled one byte per 100 ms holds the handshaker's only slot until the 3 s handshake timeout closes it; then the slot comes back")
    func dribble() async throws {
        let credentials = try TestCredentials()
        let serverStore = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        var limits = HandshakerServiceLimits()
        limits.maxConcurrentStreams = 1
        let provider = ALTSHandshakerServiceProvider(identities: [serverStore], limits: limits)
        let grpcTransport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        try await withEventLoopGroup(threads: 1) { group in
            try await withGRPCServer(transport: grpcTransport, services: [provider]) { _ in
                let service = try ALTSHandshakerServiceClient(address: .host("127.0.0.1", port: try await grpcTransport.listeningAddress.ipv4!.port))
                defer { service.shutdown() }
                var configuration = ALTSHandshakeHandler.Configuration()
                configuration.handshakeTimeout = .seconds(3)
                let server = try await LoopbackALTSServer(
                    group: group, handshakers: .handshakerService(service, options: ALTSHandshakeOptions()), configuration: configuration)
                let port = server.port

                let clientInit = try ALTSHandshaker(role: .client, credential: clientCredential).start().outBytes
                let started = ContinuousClock.now
                let slowloris = try await Dribbler(group: group, port: port, bytes: clientInit, interval: .milliseconds(100))
                // Dribbled whole, it would take over 10 s: far past the timeout.
                #expect(clientInit.count > 100)
                // Its stream opened with its first byte; 8 bytes in, the service has long admitted it.
                try await eventually("the slowloris has sent 8 bytes") { slowloris.sent >= 8 }

                // While it dribbles, its stream is the only one the service admits.
                let refusal = await #expect(throws: BlockingSocket.Failure.self) {
                    _ = try await offloaded { try ManualALTSClient(port: port, credential: clientCredential) }
                }
                #expect(refusal?.description == "server closed during the handshake")
                #expect(provider.statistics.count(of: .refusedBusy) == 1)
                let refused = try await server.connection(1)
                try await eventually("the refused connection is closed") { refused.closed }
                #expect(refused.errors.map { "\($0)" } == [#"ALTS handshaker unavailable: resourceExhausted: "handshaker busy: 1 handshakes already in progress""#])

                let closedAt = try await slowloris.closed.get()
                let lasted = closedAt - started
                // Progress never extends the deadline: the whole ClientInit would take 100 ms a byte.
                #expect(lasted >= .seconds(3) && lasted < .seconds(8), "the slowloris lasted \(lasted)")
                #expect(slowloris.sent < clientInit.count, "it never finished its ClientInit")
                let trace = try await server.connection(0)
                #expect(trace.errors.map { $0 as? ALTSChannelError } == [ALTSChannelError(.handshakeTimeout(seconds: 3))])
                #expect(trace.authenticated == nil)

                // The slot is free again as soon as the timed-out connection lets go of its
                // stream, long before the service's own 30 s idle timeout would end it.
                let freed = ContinuousClock.now
                let (peer, echo) = try await retryingWhileBusy {
                    try await offloaded {
                        let client = try ManualALTSClient(port: port, credential: clientCredential)
                        try client.socket.write(try client.seal(Array("after".utf8)))
                        return (client.peerServiceAccount, try client.receive(count: 5))
                    }
                }
                #expect(ContinuousClock.now - freed < .seconds(5))
                #expect(peer == Self.serverAccount)
                #expect(echo == Array("after".utf8))
                #expect(provider.statistics.count(of: .idleTimeout) == 0)
                // At least one: an attempt whose handshake succeeded but whose echo read timed
                // out on a loaded machine is retried, and the service counts both handshakes.
                #expect(provider.statistics.count(of: .succeeded) >= 1)
            }
        }
    }

    /// A stream ended by its client is counted free by the service a moment later.
    private func retryingWhileBusy<T>(_ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do {
                return try await body()
            } catch let error as BlockingSocket.Failure where ContinuousClock.now < deadline {
                _ = error
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
