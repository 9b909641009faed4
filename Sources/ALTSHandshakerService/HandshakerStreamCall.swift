import ALTSHandshakerProto
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import Synchronization

/// One open `DoHandshake` stream, turned into request → future-of-response calls. The
/// handshake is strictly one response per request, so responses complete waiting callers in
/// order.
final class HandshakerStreamCall: Sendable {
    /// Callers waiting for a response, why the stream ended once it has, and who must hear
    /// of an end we did not ask for.
    private final class Waiting: Sendable {
        struct State {
            var callers: [EventLoopPromise<Grpc_Gcp_HandshakerResp>] = []
            var ended: (any Error)?
            var finishedByUs = false
            var watcher: EventLoopPromise<Void>?
        }

        let state = Mutex(State())
        func withLock<R>(_ body: (inout State) -> R) -> R {
            state.withLock { body(&$0) }
        }
    }

    private let requests: AsyncStream<Grpc_Gcp_HandshakerReq>.Continuation
    private let waiting = Waiting()
    private let call: Task<Void, Never>

    init(client: GRPCClient<HTTP2ClientTransport.Posix>) {
        let (stream, continuation) = AsyncStream.makeStream(of: Grpc_Gcp_HandshakerReq.self)
        requests = continuation
        let waiting = self.waiting
        call = Task {
            var ending: any Error = HandshakerStreamEnded(reason: "the handshaker service ended the stream")
            do {
                try await Grpc_Gcp_HandshakerService.Client(wrapping: client).doHandshake(
                    request: StreamingClientRequest { writer in
                        for await request in stream { try await writer.write(request) }
                    }
                ) { response in
                    for try await message in response.messages {
                        let caller = waiting.withLock { $0.callers.isEmpty ? nil : $0.callers.removeFirst() }
                        caller?.succeed(message)
                    }
                }
            } catch {
                ending = error
            }
            let (stranded, watcher) = waiting.withLock { state in
                state.ended = ending
                defer { state.callers = []; state.watcher = nil }
                return (state.callers, state.watcher)
            }
            for caller in stranded { caller.fail(ending) }
            // Set only while we still wanted the stream: the service went away (or ended the
            // stream) in the middle of our handshake.
            watcher?.fail(ending)
        }
    }

    deinit {
        requests.finish()
    }

    /// Sends `request`; the future holds the service's response to it.
    func send(_ request: Grpc_Gcp_HandshakerReq, on eventLoop: any EventLoop) -> EventLoopFuture<Grpc_Gcp_HandshakerResp> {
        let promise = eventLoop.makePromise(of: Grpc_Gcp_HandshakerResp.self)
        let ended = waiting.withLock { state -> (any Error)? in
            if state.ended == nil { state.callers.append(promise) }
            return state.ended
        }
        if let ended {
            promise.fail(ended)
        } else {
            requests.yield(request)
        }
        return promise.futureResult
    }

    /// Fails `promise` if the stream ends before `finish()` is called, however that happens
    /// (the service is killed, restarted or ends the stream); succeeds it on `finish()`.
    func watch(_ promise: EventLoopPromise<Void>) {
        let verdict = waiting.withLock { state -> Result<Void, any Error>? in
            if state.finishedByUs { return .success(()) }
            if let ended = state.ended { return .failure(ended) }
            state.watcher = promise
            return nil
        }
        if let verdict { promise.completeWith(verdict) }
    }

    /// No more requests: lets the RPC end.
    func finish() {
        let watcher = waiting.withLock { state -> EventLoopPromise<Void>? in
            state.finishedByUs = true
            defer { state.watcher = nil }
            return state.watcher
        }
        watcher?.succeed()
        requests.finish()
    }
}

struct HandshakerStreamEnded: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
