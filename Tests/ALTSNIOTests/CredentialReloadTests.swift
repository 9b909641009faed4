import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

@Suite("Credential reload")
struct CredentialReloadTests {
    /// A server whose handshakes take the store's current credential when they start.
    private func startServer(group: any EventLoopGroup, store: CredentialStore) async throws -> (any Channel, AcceptedConnections) {
        let accepted = AcceptedConnections()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let driver = try ALTSInProcessHandshakeDriver(role: .server, credentials: store, options: ALTSHandshakeOptions())
                    let probe = ConnectionProbe(eventLoop: channel.eventLoop, echo: true)
                    accepted.append(probe.authenticated.futureResult)
                    try channel.pipeline.syncOperations.addHandlers([ALTSHandshakeHandler(role: .server, driver: driver), probe])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, accepted)
    }

    @Test("a rotated certificate serves new handshakes; the established connection carries on")
    func rotation() async throws {
        let credentials = try TestCredentials()
        let serverDirectory = try credentials.issue("alts-server", project: "alpha")
        let clientCredential = try credentials.credential("alts-client", project: "alpha")
        let store = try CredentialStore(directory: serverDirectory)
        let logs = CapturedLogs()
        let reloader = ALTSCredentialReloader(store: store, logger: logs.logger())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        reloader.start(on: group.next(), pollInterval: .milliseconds(50), reloadOnSIGHUP: false)
        let (server, _) = try await startServer(group: group, store: store)
        let port = server.localAddress!.port!

        let before = try await connectALTSClient(group: group, port: port, credential: clientCredential, greeting: "before")
        let oldFingerprint = try await before.authenticated.get().peerAttributes["certificate_sha256"]
        #expect(try await before.echoed.get() == "before")

        try credentials.issue("alts-server", project: "alpha", directory: serverDirectory)  // rotate in place
        let newFingerprint = try ALTSCredential.load(directory: serverDirectory).fingerprintSHA256
        #expect(newFingerprint != oldFingerprint)
        for _ in 0..<100 where store.current.fingerprintSHA256 != newFingerprint {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.current.fingerprintSHA256 == newFingerprint)
        #expect(logs.all.contains { $0.message == "credential reloaded" && $0.metadata["reason"] == "files changed" })

        let after = try await connectALTSClient(group: group, port: port, credential: clientCredential, greeting: "after")
        #expect(try await after.authenticated.get().peerAttributes["certificate_sha256"] == newFingerprint)
        #expect(try await after.echoed.get() == "after")

        // The first connection still works: it keeps the keys of its own handshake.
        try await before.channel.writeAndFlush(ByteBuffer(string: " still up"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(before.channel.isActive)

        reloader.stop()
        try await before.channel.close()
        try await after.channel.close()
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test("a broken rotation keeps the old credential and logs why")
    func brokenRotation() throws {
        let credentials = try TestCredentials()
        let directory = try credentials.issue("alts-server", project: "alpha")
        let store = try CredentialStore(directory: directory)
        let original = store.current.fingerprintSHA256
        let logs = CapturedLogs()
        let reloader = ALTSCredentialReloader(store: store, logger: logs.logger())
        try "not a certificate\n".write(toFile: directory + "/service-account.pem", atomically: true, encoding: .utf8)
        reloader.reload(reason: "SIGHUP")
        #expect(store.current.fingerprintSHA256 == original)
        let entry = try #require(logs.all.first { $0.level == .error })
        #expect(entry.message == "credential reload failed; keeping the previous credential")
        #expect(entry.metadata["reason"] == "SIGHUP")
        #expect(entry.metadata["error"]?.contains("service-account.pem") == true)
    }

    @Test("SIGHUP reloads the credential")
    func sighup() async throws {
        let credentials = try TestCredentials()
        let directory = try credentials.issue("alts-server", project: "alpha")
        let store = try CredentialStore(directory: directory)
        let logs = CapturedLogs()
        let reloader = ALTSCredentialReloader(store: store, logger: logs.logger())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        reloader.start(on: group.next(), pollInterval: .seconds(3_600), reloadOnSIGHUP: true)
        try credentials.issue("alts-server", project: "alpha", directory: directory)
        let rotated = try ALTSCredential.load(directory: directory).fingerprintSHA256
        kill(getpid(), SIGHUP)
        for _ in 0..<100 where store.current.fingerprintSHA256 != rotated {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.current.fingerprintSHA256 == rotated)
        #expect(logs.all.contains { $0.message == "credential reloaded" && $0.metadata["reason"] == "SIGHUP" })
        reloader.stop()
        try await group.shutdownGracefully()
    }
}
