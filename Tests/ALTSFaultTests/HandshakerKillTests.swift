import ALTSGRPC
import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import Foundation
import GRPCCore
import NIOCore
import NIOPosix
import Testing

/// The `handshaker` binary dies while a client's handshake depends on it.
@Suite("Handshaker service killed mid-handshake")
struct HandshakerKillTests {
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"
    static let clientAccount = "alts-client@alpha.iam.gserviceaccount.com"

    @Test("SIGKILL of the handshaker while a handshake waits on its peer: the client fails at once with 'ALTS handshaker unavailable'; a restarted handshaker serves the same process")
    func killMidHandshake() async throws {
        let credentials = try TestCredentials()
        let clientDirectory = try credentials.issue("alts-client", project: "alpha")
        let serverStore = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        let first = try await ServiceBinaries.startHandshaker(credentials: clientDirectory)
        let service = try ALTSHandshakerServiceClient(address: .host("127.0.0.1", port: first.port))
        defer { service.shutdown() }
        let options = {
            var options = ALTSHandshakeOptions()
            options.targetServiceAccounts = [Self.serverAccount]
            return options
        }()
        let config = {
            var config = ALTSClientTransport.Config()
            // Far beyond the test's patience: a failure must come from the lost service, not this.
            config.handshake.handshakeTimeout = .seconds(60)
            return config
        }()
        try await withEventLoopGroup(threads: 1) { group in
            let silent = try await SilentListener(group: group)
            let attempt = Task {
                try await ALTSClientTransport.connect(
                    to: .host("127.0.0.1", port: silent.port), handshakers: .handshakerService(service, options: options), config: config,
                    eventLoopGroup: group)
            }
            // The ClientInit the service produced has reached the peer: the client now waits on
            // the peer, with its handshake's state held in the service.
            try await eventually("the client's ClientInit at the silent peer", timeout: .seconds(20)) { !silent.received.isEmpty }
            #expect(try await first.process.stop(signal: SIGKILL) == SIGKILL)
            let killed = ContinuousClock.now

            let error = await #expect(throws: ALTSChannelError.self) { _ = try await attempt.value }
            let waited = ContinuousClock.now - killed
            #expect(waited < .seconds(5), "the client noticed the dead service after \(waited)")
            guard case .driverFailed(let reason)? = error?.kind else {
                Issue.record("expected driverFailed, got \(String(describing: error))")
                return
            }
            #expect(error?.description == "ALTS handshaker unavailable: \(reason)")
            #expect(reason == #"unavailable: "the connection to the handshaker service at 127.0.0.1:\#(first.port) closed""#, "the gRPC status of the lost stream")
            try await eventually("the client closed its connection to the peer") { silent.closed == 1 }

            // Same address, same process, same service client: it reconnects by itself.
            let second = try await ServiceBinaries.startHandshaker(listen: "127.0.0.1:\(first.port)", credentials: clientDirectory)
            #expect(second.port == first.port)
            let server = ALTSServerTransport(
                address: .host("127.0.0.1", port: 0), handshakers: .inProcess(credentials: serverStore, options: ALTSHandshakeOptions()),
                eventLoopGroup: group)
            try await withGRPCServer(transport: server, services: [PeerCertificateService()]) { _ in
                let port = try await server.listeningAddress.port!
                let transport = try await connectWhileReconnecting {
                    try await ALTSClientTransport.connect(
                        to: .host("127.0.0.1", port: port), handshakers: .handshakerService(service, options: options), eventLoopGroup: group)
                }
                #expect(transport.authInfo.peerServiceAccount == Self.serverAccount)
                let answer = try await withGRPCClient(transport: transport) { try await PeerCertificateService.ask($0, "after the restart") }
                #expect(answer.peerServiceAccount == Self.clientAccount)
                #expect(answer.message == "after the restart")
            }
            #expect(ServiceBinaries.isAlive(second.process))
        }
    }

    /// Retries while the service client's connection is backing off after the outage; every
    /// failure on the way must be the same clear "handshaker unavailable".
    private func connectWhileReconnecting(_ connect: () async throws -> ALTSClientTransport) async throws -> ALTSClientTransport {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await connect()
            } catch let error as ALTSChannelError {
                guard case .driverFailed = error.kind, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
