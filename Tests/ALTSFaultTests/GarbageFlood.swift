import NIOCore
import NIOPosix
import Synchronization

/// Many connections that each write random bytes and wait for the service to close them.
enum GarbageFlood {
    struct Outcome: Sendable, CustomStringConvertible {
        /// Ended by the service with FIN.
        var closed = 0
        /// Ended by the service with RST (it closed with some of our bytes unread).
        var reset = 0
        /// Still open when we gave up waiting: the service kept a garbage connection.
        var leftOpen = 0
        /// Could not connect at all.
        var refused: [String] = []
        var elapsed: Duration = .zero

        var closedByService: Int { closed + reset }
        var description: String {
            "closed \(closed) + reset \(reset), left open \(leftOpen), refused \(refused.count) \(refused.prefix(3)), in \(elapsed)"
        }
    }

    private enum Ending: Sendable { case closed, reset, leftOpen, refused(String) }

    /// What the workers share: the next connection to make, and the tally.
    private final class Shared: Sendable {
        let nextIndex = Atomic<Int>(0)
        let outcome = Mutex(Outcome())
    }

    /// `count` connections to 127.0.0.1:`port`, `concurrency` at a time; connection `i` writes
    /// 1...2048 bytes from a PRNG seeded with `seed` and `i`, then reads until the service closes
    /// (at most `closeWithin`).
    static func run(
        port: Int, count: Int = 10_000, concurrency: Int = 64, seed: UInt64, closeWithin: TimeAmount = .seconds(20),
        group: any EventLoopGroup
    ) async -> Outcome {
        let started = ContinuousClock.now
        let shared = Shared()
        await withTaskGroup(of: Void.self) { workers in
            for _ in 0..<concurrency {
                workers.addTask {
                    while true {
                        let index = shared.nextIndex.add(1, ordering: .relaxed).oldValue
                        guard index < count else { break }
                        let ending = await connection(port: port, garbage: garbage(seed: seed, index: index), closeWithin: closeWithin, group: group)
                        shared.outcome.withLock { outcome in
                            switch ending {
                            case .closed: outcome.closed += 1
                            case .reset: outcome.reset += 1
                            case .leftOpen: outcome.leftOpen += 1
                            case .refused(let why): outcome.refused.append(why)
                            }
                        }
                    }
                }
            }
        }
        var result = shared.outcome.withLock { $0 }
        result.elapsed = ContinuousClock.now - started
        return result
    }

    /// SplitMix64: the same bytes on every run, a different stream per connection.
    static func garbage(seed: UInt64, index: Int) -> [UInt8] {
        var state = seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let size = Int(next() % 2_048) + 1
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + 7)
        while bytes.count < size { withUnsafeBytes(of: next()) { bytes += $0 } }
        return Array(bytes.prefix(size))
    }

    private static func connection(port: Int, garbage: [UInt8], closeWithin: TimeAmount, group: any EventLoopGroup) async -> Ending {
        let ended = group.next().makePromise(of: Ending.self)
        do {
            _ = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GarbageWriter(garbage: garbage, closeWithin: closeWithin, ended: ended))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            ended.succeed(.refused("\(error)"))
        }
        return (try? await ended.futureResult.get()) ?? .refused("no outcome")
    }

    private final class GarbageWriter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let garbage: [UInt8]
        let closeWithin: TimeAmount
        let ended: EventLoopPromise<Ending>
        private var wasReset = false
        private var gaveUp = false
        private var deadline: Scheduled<Void>?

        init(garbage: [UInt8], closeWithin: TimeAmount, ended: EventLoopPromise<Ending>) {
            self.garbage = garbage
            self.closeWithin = closeWithin
            self.ended = ended
        }

        func channelActive(context: ChannelHandlerContext) {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: closeWithin) {
                let (writer, context) = loopBound.value
                writer.gaveUp = true
                context.close(promise: nil)
            }
            // A failed write means the service closed first, which channelInactive reports.
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: garbage)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let io = error as? IOError, io.errnoCode == ECONNRESET { wasReset = true }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            deadline?.cancel()
            ended.succeed(gaveUp ? .leftOpen : wasReset ? .reset : .closed)
        }
    }
}
