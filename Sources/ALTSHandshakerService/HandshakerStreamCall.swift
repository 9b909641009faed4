import ALTSHandshakerProto
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import Synchronization

/// One open `DoHandshake` stream, turned into request → future-of-response calls. The
/// handshake is strictly one response per request, so responses complete waiting callers in
/// order.
final class HandshakerStreamCall: Sendable {
    /// Callers waiting for a response, and why the stream ended once it has.
    private final class Waiting: Sendable {
        let state = Mutex<(callers: [EventLoopPromise<Grpc_Gcp_HandshakerResp>], ended: (any Error)?)>(([], nil))
        func withLock<R>(_ body: (inout (callers: [EventLoopPromise<Grpc_Gcp_HandshakerResp>], ended: (any Error)?)) -> R) -> R {
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
            let stranded = waiting.withLock { state -> [EventLoopPromise<Grpc_Gcp_HandshakerResp>] in
                state.ended = ending
                defer { state.callers = [] }
                return state.callers
            }
            for caller in stranded { caller.fail(ending) }
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

    /// No more requests: lets the RPC end.
    func finish() {
        requests.finish()
    }
}

struct HandshakerStreamEnded: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
