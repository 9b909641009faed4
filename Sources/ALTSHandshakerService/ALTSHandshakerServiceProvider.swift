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
    public let statistics = HandshakerStatistics()

    public init(identities: [CredentialStore], limits: HandshakerServiceLimits = .init(), logger: Logger = Logger(label: "swift-alts.handshaker")) {
        precondition(!identities.isEmpty, "a handshaker service needs at least one identity")
        self.identities = identities
        self.limits = limits
        self.logger = logger
        self.streams = StreamGate(limit: limits.maxConcurrentStreams)
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
        let activity = ActivityClock()
        let identities = self.identities, limits = self.limits, logger = self.logger, statistics = self.statistics
        let caller = context.remotePeer
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let session = HandshakerSession(identities: identities, limits: limits)
                for try await next in request {
                    activity.touch()
                    let (answer, done) = session.handle(next)
                    try await response.write(answer)
                    if done {
                        Self.report(session, caller: caller, logger: logger, statistics: statistics)
                        return
                    }
                }
            }
            group.addTask {
                try await activity.watch(idleTimeout: limits.streamIdleTimeout)
            }
            do {
                try await group.next()
            } catch let error as RPCError where error.code == .deadlineExceeded {
                statistics.count(.idleTimeout)
                logger.notice("handshake stream idle; ended", metadata: ["caller": "\(caller)"])
                throw error
            }
            group.cancelAll()
        }
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

/// When a stream last heard from its client.
final class ActivityClock: Sendable {
    private let last = Mutex(ContinuousClock.now)

    func touch() { last.withLock { $0 = .now } }

    /// Returns only by throwing: DEADLINE_EXCEEDED once idle for `idleTimeout`, or cancellation.
    func watch(idleTimeout: Duration) async throws {
        let tick = min(idleTimeout, .seconds(1))
        while true {
            try await Task.sleep(for: tick)
            let idle = ContinuousClock.now - last.withLock { $0 }
            if idle >= idleTimeout {
                throw RPCError(code: .deadlineExceeded, message: "no handshake request for \(idleTimeout)")
            }
        }
    }
}
