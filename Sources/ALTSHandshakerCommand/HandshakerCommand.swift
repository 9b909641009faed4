import ALTSCommandSupport
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOPosix
import ServiceLifecycle

/// `grpc.gcp.HandshakerService` for stock gRPC (grpcio, grpc-go) and Envoy, off Google Cloud.
struct HandshakerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshaker",
        abstract: "ALTS handshaker service (grpc.gcp.HandshakerService) holding this machine's service-account keys.",
        discussion: """
            Any process that can reach --listen can handshake as the loaded service accounts, as \
            on Google Cloud; prefer a Unix socket whose mode limits who may connect \
            (see docs/HANDSHAKER.md). Credentials are re-read on SIGHUP and when their files change.
            """)

    @Option(help: "Where to serve: HOST:PORT (an IP literal) or unix:PATH. On a VM: 169.254.169.254:8080.")
    var listen = "127.0.0.1:8080"

    @Option(help: "Credential directory; repeat to hold several identities (the first is the default). Default: $ALTS_CREDENTIALS, else /etc/alts.")
    var credentials: [String] = []

    @Option(name: .customLong("socket-mode"), help: "File mode of the Unix socket (octal).")
    var socketMode = "0600"

    @Option(name: .customLong("max-in-bytes"), help: "Largest in_bytes accepted in one request.")
    var maxInBytes = 1 << 20

    @Option(name: .customLong("max-streams"), help: "Handshakes in progress at once.")
    var maxStreams = 4_096

    @Option(name: .customLong("idle-timeout"), help: "End a handshake stream idle for this long.")
    var idleTimeout = "30s"

    @Option(name: .customLong("preface-timeout"), help: "Close a connection that has not sent the HTTP/2 client preface within this long.")
    var prefaceTimeout = "10s"

    func run() async throws {
        LoggingSystem.bootstrap { GoLogHandler(label: $0) }
        let logger = Logger(label: "handshaker")
        do {
            let stores = try (credentials.isEmpty ? [nil] : credentials.map { Optional($0) }).map { directory throws(CredentialsLocatorError) in
                try CredentialsLocator.store(flag: directory)
            }
            let address = try ALTSAddress(parsing: listen)
            var limits = HandshakerServiceLimits()
            limits.maxInBytesPerRequest = maxInBytes
            limits.maxConcurrentStreams = maxStreams
            limits.streamIdleTimeout = try CommandTimeout(parsing: idleTimeout).duration
            limits.prefaceTimeout = try CommandTimeout(parsing: prefaceTimeout).duration
            guard maxInBytes >= 65_536 else { throw ValidationError("--max-in-bytes must be at least 65536 (one handshake message)") }
            guard let mode = mode_t(socketMode, radix: 8) else { throw ValidationError("--socket-mode '\(socketMode)' is not an octal file mode") }

            let transport = try HTTP2ServerTransport.Posix(address: Self.bindAddress(address), transportSecurity: .plaintext, config: limits.transportConfig)
            let provider = ALTSHandshakerServiceProvider(identities: stores, limits: limits, logger: logger)
            let server = GRPCServer(transport: transport, services: [provider])
            let reloaders = stores.map { ALTSCredentialReloader(store: $0, logger: logger) }
            for reloader in reloaders { reloader.start(on: MultiThreadedEventLoopGroup.singleton.next()) }
            defer { for reloader in reloaders { reloader.stop() } }

            if case .unixDomainSocket = address {
                // The socket is born with no access for others; the chosen mode follows once bound.
                umask(0o177)
            }
            let identities = stores.map { $0.current.serviceAccount.email }.joined(separator: ", ")
            Task {
                guard let bound = try? await transport.listeningAddress else { return }
                if case .unixDomainSocket(let path) = address {
                    chmod(path, mode)
                }
                logger.info("handshaker listening on \(bound) for \(identities)")
            }
            let group = ServiceGroup(
                services: [GRPCServerService(server: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "lifecycle", factory: { SwiftLogNoOpLogHandler($0) }))
            try await group.run()
            logger.info("handshaker stopped")
        } catch {
            FileHandle.standardError.write(Data("handshaker: error: \(CommandFailure.describe(error))\n".utf8))
            throw ExitCode(1)
        }
    }

    private static func bindAddress(_ address: ALTSAddress) throws -> GRPCNIOTransportCore.SocketAddress {
        switch address {
        case .unixDomainSocket(let path):
            return .unixDomainSocket(path: path)
        case .host(let host, let port):
            if host.contains(":") { return .ipv6(host: host, port: port) }
            guard host.split(separator: ".").count == 4, host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) else {
                throw ValidationError("--listen needs an IP address or unix:PATH, not '\(host)'")
            }
            return .ipv4(host: host, port: port)
        }
    }
}

@main
enum HandshakerCommandMain {
    static func main() async {
        NIOEventLoopsAsConcurrencyExecutor.install()
        await HandshakerCommand.main()
    }
}
