import ALTSGRPC
import ALTSHandshake
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix

/// The server half of bench/grpc.sh: one gRPC server, the chosen security, until SIGTERM.
struct GRPCServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-server",
        abstract: "Serve unary Echo on 127.0.0.1 over ALTS, plaintext or mTLS until SIGTERM (for bench/grpc.sh).")

    @Option(help: "alts, plaintext or mtls.")
    var security: GRPCBenchSecurity

    @Option(help: "Port on 127.0.0.1; 0 picks a free one (printed as `listening port=P`).")
    var port = 0

    @Option(help: "ALTS: the server's credential directory.")
    var credentials: String?

    @Option(help: "mTLS: directory with ca.pem, server.pem and server.key (client certificates must chain to ca.pem).")
    var tlsDir: String?

    @Option(help: "Event-loop threads.")
    var threads = System.coreCount

    func run() throws {
        let security = self.security
        let port = self.port
        let keys = GRPCBenchKeys(credentials: credentials, tlsDirectory: tlsDir)
        // Never shut down: the process exits right after serving, and shutting the group down
        // first races the teardown of the connections' TLS and ALTS handlers, which then log
        // "Cannot schedule tasks on an EventLoop that has already shut down".
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let served = GRPCBenchCounter()
        let service = GRPCBenchEchoService(served: served)
        try GRPCBench.runBlocking(on: group) {
            switch security {
            case .alts:
                let transport = ALTSServerTransport(
                    address: .host("127.0.0.1", port: port),
                    handshakers: .inProcess(credentials: try keys.credentialStore(security), options: ALTSHandshakeOptions()),
                    eventLoopGroup: group)
                try await Self.serve(transport, service: service) { try await transport.listeningAddress.port }
            case .plaintext, .mtls:
                let transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity
                if security == .mtls {
                    // .mTLS demands a client certificate and verifies it against trustRoots;
                    // bench/grpc.sh checks that a client without one is refused.
                    let clientRoots = TLSConfig.TrustRootsSource.certificates([try keys.pem("ca.pem", security)])
                    transportSecurity = .mTLS(
                        certificateChain: [try keys.pem("server.pem", security)], privateKey: try keys.key("server.key", security)
                    ) { $0.trustRoots = clientRoots }
                } else {
                    transportSecurity = .plaintext
                }
                // The listen backlog ALTSServerTransport uses: with NIO's default (128) a burst of
                // connections, as from load-client, would overflow the accept queue of these
                // servers only, and their clients would wait for a SYN retransmission.
                var config = HTTP2ServerTransport.Posix.Config.defaults
                config.channelDebuggingCallbacks.onBindTCPListener = { $0.setOption(.backlog, value: 1024) }
                let transport = HTTP2ServerTransport.Posix(
                    address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: transportSecurity, config: config,
                    eventLoopGroup: group)
                try await Self.serve(transport, service: service) { try await transport.listeningAddress.ipv4?.port }
            }
        }
        print("server rpcs=\(served.count.load(ordering: .relaxed))")
    }

    private static func serve<Transport: ServerTransport>(
        _ transport: Transport, service: GRPCBenchEchoService, port: @Sendable () async throws -> Int?
    ) async throws {
        let server = GRPCServer(transport: transport, services: [service])
        // Ignored first so the default action cannot kill us before the sources see the signal.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let signals = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for source in signals {
            source.setEventHandler { server.beginGracefulShutdown() }
            source.resume()
        }
        defer { signals.forEach { $0.cancel() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            guard let bound = try await port() else { throw ValidationError("the server has no TCP port") }
            print("listening port=\(bound)")
            // stdout is a file the script polls for this line.
            fflush(nil)
            try await group.waitForAll()
        }
    }
}
