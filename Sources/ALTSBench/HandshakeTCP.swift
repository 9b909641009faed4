import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSRecord
import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The byte the server seals and sends once its handshake has completed. The client counts a
/// handshake only when this arrives and decrypts, so every counted handshake was accepted by
/// the server too (the client alone finishes one flight earlier, before the server has checked
/// ClientAuth).
private let serverReadyByte: UInt8 = 0x2A

/// The server side of the two-process benchmark: accepts connections and handshakes on each.
struct HandshakeServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake-server",
        abstract: "Accept ALTS handshakes on 127.0.0.1 until SIGTERM (for bench/handshake.sh).")

    @Option(help: "Port on 127.0.0.1; 0 picks a free one (printed as `listening port=P`).")
    var port = 0

    @Option(help: "Credential directory of the server's service account.")
    var credentials: String

    @Option(help: "Event-loop threads.")
    var threads = System.coreCount

    func run() throws {
        // A signal mask cannot be relied on here (the runtime's and NIO's threads set their
        // own), so the handler, which may run on any thread, only writes to a pipe.
        _ = stopSignalPipe
        for stopSignal in [SIGTERM, SIGINT] {
            signal(stopSignal) { _ in
                var byte: UInt8 = 0
                _ = write(stopSignalPipe.write, &byte, 1)
            }
        }

        let credential = try HandshakeBenchCredentials.load(credentials)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let counters = ServerCounters()
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // The client opens connections as fast as handshakes finish; a short backlog would
            // turn bursts into SYN retransmits (a 1 s stall each) rather than queueing.
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handshaker = try ALTSHandshaker(role: .server, credential: credential)
                    try channel.pipeline.syncOperations.addHandlers([
                        ALTSHandshakeHandler(role: .server, driver: ALTSInProcessHandshakeDriver(handshaker: handshaker)),
                        ServerReadySender(counters: counters),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: port).wait()

        print("listening port=\(channel.localAddress?.port ?? port)")
        // The script redirects stdout to a file (so it is fully buffered) and polls for this line.
        fflush(nil)
        var byte: UInt8 = 0
        while read(stopSignalPipe.read, &byte, 1) < 0 && errno == EINTR {}
        try channel.close().wait()
        print("server handshakes=\(counters.completed.load(ordering: .relaxed)) failures=\(counters.failed.load(ordering: .relaxed))")
    }
}

/// Written to by the SIGTERM/SIGINT handler; created before the handler is installed.
private let stopSignalPipe: (read: Int32, write: Int32) = {
    var descriptors: [Int32] = [-1, -1]
    precondition(pipe(&descriptors) == 0, "pipe failed: errno \(errno)")
    return (descriptors[0], descriptors[1])
}()

final class ServerCounters: Sendable {
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}

/// Tells the client, through the record layer, that the server finished the handshake.
final class ServerReadySender: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: ServerCounters

    init(counters: ServerCounters) {
        self.counters = counters
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ALTSHandshakeCompletedEvent {
            counters.completed.add(1, ordering: .relaxed)
            // Written from the event itself: the record layer must already be in place, and the
            // client only accepts the byte if it arrives sealed.
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: [serverReadyByte])), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        counters.failed.add(1, ordering: .relaxed)
        context.close(promise: nil)
    }
}

/// The client side: keeps `concurrency` connections handshaking, a new TCP connection per
/// handshake, like `openssl s_time -new`.
struct HandshakeClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake-client",
        abstract: "Full ALTS handshakes per second against handshake-server, one new connection each.")

    @Option(help: "Server port on 127.0.0.1.")
    var port: Int

    @Option(help: "Credential directory of the client's service account.")
    var credentials: String

    @Option(help: "Seconds to measure.")
    var seconds = 5.0

    @Option(help: "Handshakes in flight at once; 1 is sequential, as s_time is.")
    var concurrency = 16

    @Option(help: "Event-loop threads.")
    var threads = System.coreCount

    @Option(help: "Expected server account (NAME@PROJECT.iam.gserviceaccount.com).")
    var serverAccount = HandshakeBenchCredentials.email(HandshakeBenchCredentials.serverName)

    func run() throws {
        guard concurrency >= 1, seconds > 0 else { throw ValidationError("--concurrency and --seconds must be positive") }
        let credential = try HandshakeBenchCredentials.load(credentials)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        var options = ALTSHandshakeOptions()
        options.targetServiceAccounts = [serverAccount]
        let generator = HandshakeLoadGenerator(group: group, port: port, credential: credential, options: options)

        // Untimed: fills both ends' signature caches and warms the allocator and connection paths.
        let warmUp = try generator.run(seconds: min(0.5, seconds), concurrency: concurrency).wait()
        if let failure = warmUp.firstFailure { throw ValidationError("warm-up handshake failed: \(failure)") }

        let report = try generator.run(seconds: seconds, concurrency: concurrency).wait()
        let latencies = report.latencies.sorted()
        print(
            "hs_per_s=\(Int(report.rate.rounded())) handshakes=\(latencies.count) failures=\(report.failures) "
                + "p50_ms=\(Self.milliseconds(Self.percentile(latencies, 0.50))) "
                + "p99_ms=\(Self.milliseconds(Self.percentile(latencies, 0.99))) "
                + "concurrency=\(concurrency) threads=\(threads)")
        if let failure = report.firstFailure {
            print("FAILED: \(report.failures) handshakes failed; first: \(failure)")
            throw ExitCode.failure
        }
    }

    private static func percentile(_ sorted: [Int64], _ fraction: Double) -> Int64 {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }

    private static func milliseconds(_ nanoseconds: Int64) -> String {
        String(format: "%.2f", Double(nanoseconds) / 1e6)
    }
}

/// What one timed run saw: the latency of each counted handshake, connect to server-ready.
struct HandshakeLoadReport: Sendable {
    var latencies: [Int64] = []
    var failures = 0
    var firstFailure: String?
    var rate = 0.0
}

/// Runs `concurrency` independent chains of handshakes; each chain starts its next connection
/// as soon as its previous one is done, until the deadline.
final class HandshakeLoadGenerator: Sendable {
    private let group: any EventLoopGroup
    private let port: Int
    private let credential: ALTSCredential
    private let options: ALTSHandshakeOptions
    private let expectedPeer: String

    init(group: any EventLoopGroup, port: Int, credential: ALTSCredential, options: ALTSHandshakeOptions) {
        self.group = group
        self.port = port
        self.credential = credential
        self.options = options
        self.expectedPeer = options.targetServiceAccounts.first ?? ""
    }

    private final class Collector: Sendable {
        let report = Mutex(HandshakeLoadReport())
    }

    func run(seconds: Double, concurrency: Int) -> EventLoopFuture<HandshakeLoadReport> {
        let collector = Collector()
        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(seconds * 1e9))
        let chains = (0..<concurrency).map { _ in
            let eventLoop = group.next()
            let done = eventLoop.makePromise(of: Void.self)
            chain(on: eventLoop, until: deadline, collector: collector, done: done)
            return done.futureResult
        }
        return EventLoopFuture.andAllComplete(chains, on: group.next()).map {
            // Handshakes that started before the deadline count, so the clock stops at the last end.
            let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
            return collector.report.withLock { report in
                report.rate = Double(report.latencies.count) / elapsed
                return report
            }
        }
    }

    private func chain(on eventLoop: any EventLoop, until deadline: NIODeadline, collector: Collector, done: EventLoopPromise<Void>) {
        let started = NIODeadline.now()
        handshake(on: eventLoop).whenComplete { result in
            let finished = NIODeadline.now()
            collector.report.withLock { report in
                switch result {
                case .success:
                    report.latencies.append((finished - started).nanoseconds)
                case .failure(let error):
                    report.failures += 1
                    if report.firstFailure == nil { report.firstFailure = "\(error)" }
                }
            }
            if finished < deadline {
                self.chain(on: eventLoop, until: deadline, collector: collector, done: done)
            } else {
                done.succeed()
            }
        }
    }

    /// One new connection, one full handshake; succeeds once the server's ready byte decrypts.
    private func handshake(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let ready = eventLoop.makePromise(of: Void.self)
        let credential = credential
        let options = options
        let expectedPeer = expectedPeer
        ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handshaker = try ALTSHandshaker(role: .client, credential: credential, options: options)
                    try channel.pipeline.syncOperations.addHandlers([
                        ALTSHandshakeHandler(role: .client, driver: ALTSInProcessHandshakeDriver(handshaker: handshaker)),
                        ServerReadyWaiter(ready: ready, expectedPeer: expectedPeer),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .whenFailure { ready.fail($0) }
        return ready.futureResult
    }
}

enum HandshakeBenchError: Error, CustomStringConvertible {
    case wrongPeer(String)
    case unexpectedData([UInt8])
    case closedBeforeServerReady
    case serverReadyTimeout

    var description: String {
        switch self {
        case .wrongPeer(let peer): return "authenticated the wrong peer: \(peer)"
        case .unexpectedData(let bytes): return "expected the server's ready byte, got \(bytes)"
        case .closedBeforeServerReady: return "connection closed before the server's ready byte"
        case .serverReadyTimeout: return "no sealed ready byte from the server within 10 s"
        }
    }
}

/// Completes `ready` when the server's ready byte arrives through the record layer, then closes.
final class ServerReadyWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let ready: EventLoopPromise<Void>
    private let expectedPeer: String
    private var authenticated = false
    private var timeout: Scheduled<Void>?

    init(ready: EventLoopPromise<Void>, expectedPeer: String) {
        self.ready = ready
        self.expectedPeer = expectedPeer
    }

    /// A byte the record layer cannot open (one sent in clear, say) leaves it waiting for the
    /// rest of a frame forever; this turns that into a counted failure instead of a hung run.
    func handlerAdded(context: ChannelHandlerContext) {
        let ready = ready
        let channel = context.channel
        timeout = context.eventLoop.scheduleTask(in: .seconds(10)) {
            ready.fail(HandshakeBenchError.serverReadyTimeout)
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? ALTSHandshakeCompletedEvent {
            if completed.authInfo.peerServiceAccount == expectedPeer {
                authenticated = true
            } else {
                ready.fail(HandshakeBenchError.wrongPeer(completed.authInfo.peerServiceAccount))
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        if authenticated && bytes == [serverReadyByte] {
            ready.succeed()
        } else {
            ready.fail(HandshakeBenchError.unexpectedData(bytes))
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(HandshakeBenchError.closedBeforeServerReady)
        context.fireChannelInactive()
    }
}
