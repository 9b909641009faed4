import ALTSCommandSupport
import ALTSEchoService
import ALTSGRPC
import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ArgumentParser
import Foundation
import GRPCCore
import Logging
import NIOPosix
import ServiceLifecycle

/// The helloworld Echo server over ALTS: the Swift counterpart of the seed's Go `server`.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Echo gRPC server over ALTS; logs each caller's service account.",
        discussion: """
            Credentials come from --credentials, else $ALTS_CREDENTIALS, else /etc/alts. \
            They are re-read on SIGHUP and when their files change. SIGTERM or SIGINT drains \
            in-flight RPCs and exits.
            """)

    @Option(help: "TCP port to listen on (all interfaces).")
    var port = 50051

    @Option(help: "Address to bind; the default listens on all IPv4 interfaces.")
    var bind = "0.0.0.0"

    @Option(help: "Credential directory (see docs/CREDENTIALS.md).")
    var credentials: String?

    @Option(name: .customLong("handshakerService"), help: "Hand handshakes to this handshaker service (HOST:PORT or unix:PATH) instead of using local credentials.")
    var handshakerService: String?

    @Option(name: .customLong("allowedClientServiceAccount"), help: "Accept only these client accounts (repeatable); default: any account the trust bundle vouches for.")
    var allowedClientServiceAccounts: [String] = []

    @Option(help: "ALTS handshake timeout.")
    var handshakeTimeout = "10s"

    @Option(name: .customLong("preface-timeout"), help: "Close an authenticated connection that has not sent the HTTP/2 client preface within this long after its handshake.")
    var prefaceTimeout = "10s"

    func run() async throws {
        LoggingSystem.bootstrap { GoLogHandler(label: $0) }
        let logger = Logger(label: "server")
        do {
            let mode = try HandshakeMode.choose(credentials: credentials, handshakerService: handshakerService)
            var options = ALTSHandshakeOptions()
            options.allowedPeerServiceAccounts = allowedClientServiceAccounts
            var config = ALTSServerTransport.Config()
            config.handshake.handshakeTimeout = try CommandTimeout(parsing: handshakeTimeout).timeAmount
            config.prefaceTimeout = try CommandTimeout(parsing: prefaceTimeout).timeAmount
            let handshakers: ALTSHandshakerFactory
            let identity: String
            var reloader: ALTSCredentialReloader?
            switch mode {
            case .credentials(let store):
                handshakers = .inProcess(credentials: store, options: options)
                identity = store.current.serviceAccount.email
                reloader = ALTSCredentialReloader(store: store, logger: logger)
                reloader?.start(on: MultiThreadedEventLoopGroup.singleton.next())
            case .handshakerService(let service):
                handshakers = .handshakerService(try ALTSHandshakerServiceClient(address: service), options: options)
                identity = "the identity of the handshaker service at \(service)"
            }
            defer { reloader?.stop() }
            let transport = ALTSServerTransport(address: .host(bind, port: port), handshakers: handshakers, config: config, logger: logger)

            let server = GRPCServer(transport: transport, services: [EchoService(), LegacyEchoService()])
            let group = ServiceGroup(
                services: [GRPCServerService(server: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "lifecycle", factory: { SwiftLogNoOpLogHandler($0) }))
            let account = identity
            Task {
                if let address = try? await transport.listeningAddress {
                    logger.info("listening on \(address.ipAddress ?? bind):\(address.port ?? port) as \(account)")
                }
            }
            try await group.run()
            logger.info("server stopped")
        } catch {
            FileHandle.standardError.write(Data("server: error: \(CommandFailure.describe(error))\n".utf8))
            throw ExitCode(1)
        }
    }
}
