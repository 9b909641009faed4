import ALTSGRPC
import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import GRPCCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Both ends rotate their certificates in place while RPCs keep flowing, over new connections
/// (whose handshakes race the rotations) and over long-lived ones (that keep their keys).
@Suite("Credential rotation under load")
struct RotationUnderLoadTests {
    static let serverAccount = "alts-server@alpha.iam.gserviceaccount.com"
    static let clientAccount = "alts-client@alpha.iam.gserviceaccount.com"
    static let rotations = 4

    /// What the clients saw, and what went wrong.
    private final class Tally: Sendable {
        private struct State {
            var succeeded = 0
            var failures: [String] = []
            var serverCertificates: Set<String> = []
            var clientCertificates: Set<String> = []
            var longLivedConnections = 0
        }

        private let state = Mutex(State())
        let stop = Atomic<Bool>(false)

        func record(server: String, client: String) {
            state.withLock {
                $0.succeeded += 1
                $0.serverCertificates.insert(server)
                $0.clientCertificates.insert(client)
            }
        }

        func record(failure: String) { state.withLock { $0.failures.append(failure) } }
        func recordLongLivedConnection() { state.withLock { $0.longLivedConnections += 1 } }

        var succeeded: Int { state.withLock { $0.succeeded } }
        var failures: [String] { state.withLock { $0.failures } }
        var serverCertificates: Set<String> { state.withLock { $0.serverCertificates } }
        var clientCertificates: Set<String> { state.withLock { $0.clientCertificates } }
        var longLivedConnections: Int { state.withLock { $0.longLivedConnections } }
    }

    @Test("4 rotations of both certificates during load: 0 failed RPCs, and every certificate was seen by the peer")
    func rotateUnderLoad() async throws {
        let credentials = try TestCredentials()
        let serverDirectory = try credentials.issue("alts-server", project: "alpha")
        let clientDirectory = try credentials.issue("alts-client", project: "alpha")
        let serverStore = try CredentialStore(directory: serverDirectory)
        let clientStore = try CredentialStore(directory: clientDirectory)
        let logs = CapturedLogs()
        try await withEventLoopGroup(threads: 2) { group in
            let reloaders = [serverStore, clientStore].map { ALTSCredentialReloader(store: $0, logger: logs.logger()) }
            for reloader in reloaders { reloader.start(on: group.next(), pollInterval: .milliseconds(20), reloadOnSIGHUP: false) }
            defer { for reloader in reloaders { reloader.stop() } }

            var serverCertificates = [serverStore.current.fingerprintSHA256]
            var clientCertificates = [clientStore.current.fingerprintSHA256]
            let transport = ALTSServerTransport(
                address: .host("127.0.0.1", port: 0), handshakers: .inProcess(credentials: serverStore, options: ALTSHandshakeOptions()),
                eventLoopGroup: group)
            let tally = Tally()
            try await withGRPCServer(transport: transport, services: [PeerCertificateService()]) { _ in
                let port = try await transport.listeningAddress.port!
                var options = ALTSHandshakeOptions()
                options.targetServiceAccounts = [Self.serverAccount]
                let handshakers = ALTSHandshakerFactory.inProcess(credentials: clientStore, options: options)
                let connect: @Sendable () async throws -> ALTSClientTransport = {
                    try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: handshakers, eventLoopGroup: group)
                }
                try await withThrowingTaskGroup(of: Void.self) { load in
                    for worker in 0..<3 {
                        load.addTask { await Self.newConnectionPerRPC(worker: worker, connect: connect, tally: tally) }
                    }
                    for worker in 0..<2 {
                        load.addTask { try await Self.longLivedConnection(worker: worker, connect: connect, tally: tally) }
                    }
                    // Each rotation waits until a peer has presented the new certificate and more
                    // RPCs have gone through, so every certificate carries handshakes and RPCs
                    // under load.
                    // Load first, on the original certificates, over every kind of connection.
                    try await eventually("load on the original certificates", timeout: .seconds(20)) {
                        tally.longLivedConnections == 2 && tally.serverCertificates == [serverCertificates[0]] && tally.succeeded >= 50
                    }
                    for _ in 1...Self.rotations {
                        try credentials.issue("alts-server", project: "alpha", directory: serverDirectory)
                        let server = try ALTSCredential.load(directory: serverDirectory).fingerprintSHA256
                        serverCertificates.append(server)
                        try await eventually("clients see server certificate \(server)", timeout: .seconds(20)) { tally.serverCertificates.contains(server) }
                        try credentials.issue("alts-client", project: "alpha", directory: clientDirectory)
                        let client = try ALTSCredential.load(directory: clientDirectory).fingerprintSHA256
                        clientCertificates.append(client)
                        try await eventually("the server sees client certificate \(client)", timeout: .seconds(20)) { tally.clientCertificates.contains(client) }
                        let mark = tally.succeeded
                        try await eventually("50 more RPCs", timeout: .seconds(20)) { tally.succeeded >= mark + 50 }
                    }
                    tally.stop.store(true, ordering: .relaxed)
                    try await load.waitForAll()
                }
            }
            let halfWritten = logs.all.filter { $0.message == "credential reload failed; keeping the previous credential" }.count
            print("rotation under load: \(tally.succeeded) RPCs, \(tally.failures.count) failed; \(halfWritten) reloads met a half-written rotation")
            #expect(tally.failures == [])
            #expect(tally.succeeded > 50 * Self.rotations)
            #expect(Set(serverCertificates).count == Self.rotations + 1)
            #expect(tally.serverCertificates == Set(serverCertificates))
            #expect(tally.clientCertificates == Set(clientCertificates))
            let reloads = logs.all.filter { $0.message == "credential reloaded" }.count
            #expect(reloads >= 2 * Self.rotations)
        }
    }

    /// Connect, one RPC, close: every RPC needs a fresh handshake with whatever credentials
    /// both stores hold at that moment.
    private static func newConnectionPerRPC(worker: Int, connect: @Sendable () async throws -> ALTSClientTransport, tally: Tally) async {
        var sequence = 0
        while !tally.stop.load(ordering: .relaxed) {
            sequence += 1
            let message = "new-\(worker)-\(sequence)"
            do {
                let transport = try await connect()
                let server = transport.authInfo.peerAttributes["certificate_sha256"] ?? "-"
                let answer = try await withGRPCClient(transport: transport) { try await PeerCertificateService.ask($0, message) }
                try check(answer, message: message)
                tally.record(server: server, client: answer.peerCertificateSHA256)
            } catch {
                tally.record(failure: "\(message): \(error)")
            }
        }
    }

    /// One connection made before any rotation, used until the end: it keeps the keys and
    /// certificates of its own handshake.
    private static func longLivedConnection(worker: Int, connect: @Sendable () async throws -> ALTSClientTransport, tally: Tally) async throws {
        let transport = try await connect()
        let server = transport.authInfo.peerAttributes["certificate_sha256"] ?? "-"
        tally.recordLongLivedConnection()
        try await withGRPCClient(transport: transport) { client in
            var sequence = 0
            while !tally.stop.load(ordering: .relaxed) {
                sequence += 1
                let message = "long-\(worker)-\(sequence)"
                do {
                    let answer = try await PeerCertificateService.ask(client, message)
                    try check(answer, message: message)
                    tally.record(server: server, client: answer.peerCertificateSHA256)
                } catch {
                    tally.record(failure: "\(message): \(error)")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    private static func check(_ answer: PeerCertificateService.Answer, message: String) throws {
        guard answer.peerServiceAccount == clientAccount, answer.message == message else {
            throw RPCError(code: .internalError, message: "wrong answer \(answer) to \(message)")
        }
    }
}
