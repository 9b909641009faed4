import ALTSHandshake
import ALTSHandshakerService
import ALTSIdentity
import ALTSNIO
import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Logging

/// Handshakes per second over loopback TCP with the handshakes run in this process, or handed
/// to handshaker services (separate `handshaker` processes), for bench/handshaker.sh.
struct HandshakerServiceBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshaker-compare",
        abstract: "ALTS handshakes/s and latency, in-process vs through handshaker services.")

    @Option(help: "Server credential directory (in-process mode).")
    var serverCredentials: String?

    @Option(help: "Client credential directory (in-process mode).")
    var clientCredentials: String?

    @Option(help: "Handshaker service for the server side, HOST:PORT (service mode).")
    var serverHandshaker: String?

    @Option(help: "Handshaker service for the client side, HOST:PORT (service mode).")
    var clientHandshaker: String?

    @Option(help: "Seconds to measure (ignored with --burst).")
    var seconds = 5.0

    @Option(help: "Handshakes in flight at once.")
    var concurrency = 16

    @Option(help: "Instead of a timed run: start this many handshakes at once, each on its own connection, and count failures.")
    var burst: Int?

    func run() async throws {
        let (serverFactory, clientFactory, mode) = try factories()
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 4_096)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var configuration = ALTSHandshakeHandler.Configuration()
                    configuration.handshakeTimeout = .seconds(60)
                    let outcome = try channel.pipeline.syncOperations.addALTSHandlers(
                        role: .server, factory: serverFactory, configuration: configuration, logger: quiet)
                    outcome.whenFailure { _ in }
                    try channel.pipeline.syncOperations.addHandler(ServerConfirms())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = server.localAddress!.port!
        let load = HandshakeLoad(port: port, factory: clientFactory)

        if let burst {
            let report = try await load.burst(burst)
            print("mode=\(mode) burst=\(burst) succeeded=\(report.latencies.count) failures=\(report.failures) "
                + "p50_ms=\(ms(report.percentile(0.5))) p99_ms=\(ms(report.percentile(0.99))) first_failure=\(report.firstFailure ?? "none")")
            if report.failures > 0 { throw ExitCode.failure }
            return
        }
        _ = try await load.timed(seconds: min(1, seconds), concurrency: concurrency)  // warm-up
        let report = try await load.timed(seconds: seconds, concurrency: concurrency)
        print("mode=\(mode) hs_per_s=\(Int(report.rate.rounded())) handshakes=\(report.latencies.count) failures=\(report.failures) "
            + "p50_ms=\(ms(report.percentile(0.5))) p99_ms=\(ms(report.percentile(0.99))) concurrency=\(concurrency)")
        if report.failures > 0 {
            print("FAILED: first failure: \(report.firstFailure ?? "?")")
            throw ExitCode.failure
        }
    }

    private func factories() throws -> (ALTSHandshakerFactory, ALTSHandshakerFactory, String) {
        var clientOptions = ALTSHandshakeOptions()
        clientOptions.targetServiceAccounts = []
        if let serverHandshaker, let clientHandshaker {
            let serverService = try ALTSHandshakerServiceClient(address: try ALTSAddress(parsing: serverHandshaker))
            let clientService = try ALTSHandshakerServiceClient(address: try ALTSAddress(parsing: clientHandshaker))
            return (.handshakerService(serverService, options: ALTSHandshakeOptions()), .handshakerService(clientService, options: clientOptions), "service")
        }
        guard let serverCredentials, let clientCredentials else {
            throw ValidationError("give --server-credentials and --client-credentials, or --server-handshaker and --client-handshaker")
        }
        return (.inProcess(credentials: try CredentialStore(directory: serverCredentials), options: ALTSHandshakeOptions()),
                .inProcess(credentials: try CredentialStore(directory: clientCredentials), options: clientOptions), "inprocess")
    }

    private func ms(_ nanoseconds: Int64) -> String { String(format: "%.2f", Double(nanoseconds) / 1e6) }
}

/// Opens connections to `port` and times each handshake, connect to the client's result.
struct HandshakeLoad: Sendable {
    let port: Int
    let factory: ALTSHandshakerFactory

    struct Report: Sendable {
        var latencies: [Int64] = []
        var failures = 0
        var firstFailure: String?
        var rate = 0.0

        func percentile(_ fraction: Double) -> Int64 {
            let sorted = latencies.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))]
        }

        mutating func add(_ outcome: Result<Int64, any Error>) {
            switch outcome {
            case .success(let nanoseconds): latencies.append(nanoseconds)
            case .failure(let error):
                failures += 1
                if firstFailure == nil { firstFailure = "\(error)" }
            }
        }
    }

    /// `concurrency` workers, each a chain of handshakes on one event loop: every handshake's
    /// completion starts the next one there, so the harness adds no task and no thread
    /// hand-off per handshake in either mode (a task awaiting each connection did, and cost the
    /// two modes differently).
    func timed(seconds: Double, concurrency: Int) async throws -> Report {
        let started = NIODeadline.now()
        let deadline = started + .milliseconds(Int64(seconds * 1_000))
        let group = MultiThreadedEventLoopGroup.singleton
        let workers = (0..<concurrency).map { _ in HandshakeWorker(load: self, loop: group.next(), deadline: deadline).run() }
        let parts = try await EventLoopFuture.whenAllSucceed(workers, on: group.any()).get()
        var total = Report()
        for part in parts {
            total.latencies += part.latencies
            total.failures += part.failures
            total.firstFailure = total.firstFailure ?? part.firstFailure
        }
        let elapsed = NIODeadline.now() - started
        total.rate = Double(total.latencies.count) / (Double(elapsed.nanoseconds) / 1e9)
        return total
    }

    func burst(_ count: Int) async throws -> Report {
        let group = MultiThreadedEventLoopGroup.singleton
        let outcomes = (0..<count).map { _ in one(on: group.next()) }
        var report = Report()
        for outcome in try await EventLoopFuture.whenAllComplete(outcomes, on: group.any()).get() {
            report.add(outcome)
        }
        return report
    }

    /// One new connection and one full handshake, counted once the server's confirmation has
    /// come through the record layer (the client alone finishes a flight earlier, before the
    /// server has checked ClientAuth); the channel is closed afterwards. Nanoseconds taken.
    func one(on loop: any EventLoop) -> EventLoopFuture<Int64> {
        let started = NIODeadline.now()
        let factory = self.factory
        let confirmed = loop.makePromise(of: Void.self)
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var configuration = ALTSHandshakeHandler.Configuration()
                    configuration.handshakeTimeout = .seconds(60)
                    _ = try channel.pipeline.syncOperations.addALTSHandlers(
                        role: .client, factory: factory, configuration: configuration, logger: quiet)
                    try channel.pipeline.syncOperations.addHandler(ClientAwaitsConfirmation(confirmed: confirmed))
                }
            }
            .connect(host: "127.0.0.1", port: port)
        connected.whenFailure { confirmed.fail($0) }
        return connected.and(confirmed.futureResult).map { channel, _ in
            channel.close(promise: nil)
            return (NIODeadline.now() - started).nanoseconds
        }
    }
}

/// Handshakes one after another on one event loop until the deadline; its report is touched
/// on that loop only.
private final class HandshakeWorker: @unchecked Sendable {
    private let load: HandshakeLoad
    private let loop: any EventLoop
    private let deadline: NIODeadline
    private let done: EventLoopPromise<HandshakeLoad.Report>
    private var report = HandshakeLoad.Report()

    init(load: HandshakeLoad, loop: any EventLoop, deadline: NIODeadline) {
        self.load = load
        self.loop = loop
        self.deadline = deadline
        self.done = loop.makePromise()
    }

    func run() -> EventLoopFuture<HandshakeLoad.Report> {
        loop.execute { self.next() }
        return done.futureResult
    }

    private func next() {
        loop.preconditionInEventLoop()
        guard NIODeadline.now() < deadline else { return done.succeed(report) }
        load.one(on: loop).whenComplete { outcome in
            self.report.add(outcome)
            self.next()
        }
    }
}

private let quiet = Logger(label: "bench", factory: { SwiftLogNoOpLogHandler($0) })

/// Server side: sends one byte through the record layer once its handshake has completed.
private final class ServerConfirms: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ALTSHandshakeCompletedEvent {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [0x2A])), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Client side: done when the server's byte arrives, decrypted.
private final class ClientAwaitsConfirmation: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let confirmed: EventLoopPromise<Void>

    init(confirmed: EventLoopPromise<Void>) { self.confirmed = confirmed }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        confirmed.succeed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        confirmed.fail(error)
        // The ALTS handlers close on their own errors; this covers any other, so a failed
        // attempt never leaves its connection open (only a confirmed one is closed by `one`).
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        confirmed.fail(ALTSChannelError(.closedDuringHandshake))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        confirmed.fail(ALTSChannelError(.closedDuringHandshake))
    }
}
