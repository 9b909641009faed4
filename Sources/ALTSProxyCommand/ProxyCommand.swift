import ALTSCommandSupport
import ALTSIdentity
import ALTSNIO
import ALTSProxy
import ALTSProxyConfig
import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// An Envoy-compatible transport proxy: reads an Envoy v3 bootstrap (the subset in
/// docs/PROXY.md) and carries HTTP or TCP over ALTS.
@main
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alts-proxy",
        abstract: "Envoy-compatible proxy carrying HTTP and TCP over ALTS (envoy.transport_sockets.alts).",
        discussion: """
            Handshakes go to each transport socket's handshaker_service, as Envoy's do. With \
            --alts-credentials they happen in this process instead (an alts-proxy extension).
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case serve
        case validate
    }

    @Option(name: [.customShort("c"), .customLong("config-path")], help: "Envoy v3 bootstrap YAML.")
    var configPath: String

    @Option(help: "serve, or validate: check the config and exit, as Envoy's --mode validate.")
    var mode: Mode = .serve

    @Option(name: [.customShort("l"), .customLong("log-level")], help: "trace, debug, info, warning (warn), error, critical, off.")
    var logLevel = "info"

    @Option(name: .customLong("alts-credentials"), help: "Handshake in process with this credential directory instead of the handshaker_service (extension).")
    var altsCredentials: String?

    @Option(help: "Worker threads (Envoy's --concurrency). Default: one per core.")
    var concurrency: Int?

    @Option(name: .customLong("handshake-timeout"), help: "Give up on a downstream ALTS handshake after this long.")
    var handshakeTimeout = "10s"

    func run() async throws {
        let level = try Self.level(logLevel)
        LoggingSystem.bootstrap { GoLogHandler(label: $0, level: level) }
        let logger = Logger(label: "alts-proxy")
        let bootstrap: ProxyBootstrap
        do {
            bootstrap = try ProxyBootstrap.load(contentsOfFile: configPath)
        } catch {
            FileHandle.standardError.write(Data("alts-proxy: error: \(configPath): \(error)\n".utf8))
            throw ExitCode(1)
        }
        if mode == .validate {
            print("configuration '\(configPath)' OK")
            return
        }
        do {
            let handshakes: ProxyHandshakeSource
            if let altsCredentials {
                handshakes = .embedded(try CredentialsLocator.store(flag: altsCredentials))
            } else {
                handshakes = .handshakerService
            }
            guard concurrency.map({ $0 >= 1 }) ?? true else { throw ValidationError("--concurrency must be at least 1") }
            let timeout = try CommandTimeout(parsing: handshakeTimeout).timeAmount
            let group = MultiThreadedEventLoopGroup(numberOfThreads: concurrency ?? System.coreCount)
            let server = ALTSProxyServer(
                bootstrap: bootstrap, handshakes: handshakes, group: group, logger: logger,
                handshakeTimeout: timeout
            )
            let service = ProxyService(server: server, logger: logger)
            let lifecycle = ServiceGroup(
                services: [service], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "lifecycle", factory: { SwiftLogNoOpLogHandler($0) }))
            try await lifecycle.run()
            try? await group.shutdownGracefully()
            logger.info("alts-proxy stopped")
        } catch {
            FileHandle.standardError.write(Data("alts-proxy: error: \(CommandFailure.describe(error))\n".utf8))
            throw ExitCode(1)
        }
    }

    static func level(_ text: String) throws -> Logger.Level {
        switch text.lowercased() {
        case "warn": return .warning
        case "off": return .critical
        default:
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError("--log-level '\(text)': use trace, debug, info, warning, error, critical or off")
            }
            return level
        }
    }
}

/// Runs the proxy until SIGTERM/SIGINT, then closes its listeners.
struct ProxyService: Service {
    let server: ALTSProxyServer
    let logger: Logger

    func run() async throws {
        _ = try await server.start()
        try? await gracefulShutdown()
        await server.shutdown()
    }
}
