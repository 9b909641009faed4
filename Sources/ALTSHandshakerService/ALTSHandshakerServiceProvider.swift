import ALTSHandshake
import ALTSHandshakerProto
import ALTSIdentity
import GRPCCore
import Logging
import Synchronization

/// `grpc.gcp.HandshakerService/DoHandshake`, served from credentials this process holds, so
/// stock gRPC stacks (grpcio, grpc-go, Envoy) can run ALTS off Google Cloud. Each stream is one
/// `HandshakerSession`; this type adds the limits: concurrent streams, request size (in the
/// session) and an idle timeout per stream.
public struct ALTSHandshakerServiceProvider: Grpc_Gcp_HandshakerService.SimpleServiceProtocol {
    private let identities: [CredentialStore]
    private let limits: HandshakerServiceLimits
    private let logger: Logger
    private let streams: StreamGate
    private let idleSweeper: IdleStreamSweeper
    public let statistics = HandshakerStatistics()

    public init(identities: [CredentialStore], limits: HandshakerServiceLimits = .init(), logger: Logger = Logger(label: "swift-alts.handshaker")) {
        precondition(!identities.isEmpty, "a handshaker service needs at least one identity")
        self.identities = identities
        self.limits = limits
        self.logger = logger
        self.streams = StreamGate(limit: limits.maxConcurrentStreams)
        self.idleSweeper = IdleStreamSweeper(idleTimeout: limits.streamIdleTimeout)
    }

    public func doHandshake(
        request: RPCAsyncSequence<Grpc_Gcp_HandshakerReq, any Error>,
        response: RPCWriter<Grpc_Gcp_HandshakerResp>,
        context: ServerContext
    ) async throws {
        guard streams.enter() else {
            statistics.count(.refusedBusy)
            throw RPCError(code: .resourceExhausted, message: "handshaker busy: \(limits.maxConcurrentStreams) handshakes already in progress")
        }
        defer { streams.leave() }
        let identities = self.identities, limits = self.limits, logger = self.logger, statistics = self.statistics
        let caller = context.remotePeer
        // The stream's work runs in a task the service's one idle sweeper can cancel; a
        // watchdog task per stream (a task group, a second child, a timer) cost more than
        // the handshake's own bookkeeping.
        let watch = idleSweeper.watch()
        defer { idleSweeper.forget(watch) }
        // Returns whether the stream got to its last response.
        let work = Task { () async throws -> Bool in
            let session = HandshakerSession(identities: identities, limits: limits)
            for try await next in request {
                watch.touch()
                let (answer, done) = session.handle(next)
                try await response.write(answer)
                if done {
                    Self.report(session, caller: caller, logger: logger, statistics: statistics)
                    return true
                }
            }
            return false
        }
        watch.attach(work)
        let idle = {
            statistics.count(.idleTimeout)
            logger.notice("handshake stream idle; ended", metadata: ["caller": "\(caller)"])
            return RPCError(code: .deadlineExceeded, message: "no handshake request for \(limits.streamIdleTimeout)")
        }
        let finished: Bool
        do {
            finished = try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
        } catch {
            if watch.expired { throw idle() }
            throw error
        }
        // A cancelled request sequence may simply end rather than throw; a stream that got its
        // last response just as the sweeper came by is not reported idle.
        if watch.expired && !finished { throw idle() }
    }

    private static func report(_ session: HandshakerSession, caller: String, logger: Logger, statistics: HandshakerStatistics) {
        let role = session.role.map { "\($0)" } ?? "unknown"
        if let result = session.result {
            statistics.count(.succeeded)
            logger.info("handshake ok", metadata: [
                "role": "\(role)", "peer": "\(result.peer.serviceAccount)", "local": "\(result.localServiceAccount)", "caller": "\(caller)",
            ])
        } else if let failure = session.failure {
            statistics.count(.failed)
            logger.notice("handshake failed", metadata: ["role": "\(role)", "error": "\(failure)", "caller": "\(caller)"])
        }
    }
}

/// Counts of what the service did, for logs, tests and benchmarks.
public final class HandshakerStatistics: Sendable {
    public enum Event: Sendable { case succeeded, failed, refusedBusy, idleTimeout }
    private let counts = Mutex<[String: Int]>([:])

    func count(_ event: Event) { counts.withLock { $0["\(event)", default: 0] += 1 } }
    public func count(of event: Event) -> Int { counts.withLock { $0["\(event)"] ?? 0 } }
}

/// Admits at most `limit` streams at once.
final class StreamGate: Sendable {
    private let inFlight = Mutex(0)
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { inFlight.withLock { $0 -= 1 } }
}

/// Ends streams that have not heard from their client for `idleTimeout`: one task for the
/// whole service, waking every min(timeout, 1 s), instead of a watchdog per stream.
final class IdleStreamSweeper: Sendable {
    /// One stream's last activity and the task doing its work.
    final class Watch: Sendable {
        fileprivate let id: Int
        private let state: Mutex<(last: ContinuousClock.Instant, task: Task<Bool, any Error>?, expired: Bool)>

        fileprivate init(id: Int) {
            self.id = id
            self.state = Mutex((ContinuousClock.now, nil, false))
        }

        func touch() { state.withLock { $0.last = .now } }
        func attach(_ task: Task<Bool, any Error>) { state.withLock { $0.task = task } }
        /// Whether the sweeper ended the stream for idleness.
        var expired: Bool { state.withLock { $0.expired } }

        /// Cancels the work if idle since `cutoff`.
        fileprivate func expire(idleSince cutoff: ContinuousClock.Instant) {
            let task = state.withLock { state -> Task<Bool, any Error>? in
                guard !state.expired, state.last <= cutoff, let task = state.task else { return nil }
                state.expired = true
                return task
            }
            task?.cancel()
        }
    }

    private let idleTimeout: Duration
    private let state = Mutex<(watches: [Int: Watch], nextID: Int, sweeping: Bool)>(([:], 0, false))

    init(idleTimeout: Duration) {
        self.idleTimeout = idleTimeout
    }

    func watch() -> Watch {
        let (watch, start) = state.withLock { state -> (Watch, Bool) in
            state.nextID += 1
            let watch = Watch(id: state.nextID)
            state.watches[watch.id] = watch
            defer { state.sweeping = true }
            return (watch, !state.sweeping)
        }
        if start { startSweeping() }
        return watch
    }

    func forget(_ watch: Watch) {
        _ = state.withLock { $0.watches.removeValue(forKey: watch.id) }
    }

    /// Runs while the sweeper exists (the task holds it weakly).
    private func startSweeping() {
        let tick = min(idleTimeout, .seconds(1))
        Task { [weak self] in
            while true {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                self.sweep()
            }
        }
    }

    private func sweep() {
        let cutoff = ContinuousClock.now - idleTimeout
        let watches = state.withLock { Array($0.watches.values) }
        for watch in watches { watch.expire(idleSince: cutoff) }
    }
}
