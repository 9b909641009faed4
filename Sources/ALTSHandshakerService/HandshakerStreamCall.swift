import ALTSHandshakerProto
import NIOCore

/// One handshake's `DoHandshake` call: request → future-of-response, on the event loop of
/// the connection being secured (the stream is opened on that loop's connection to the
/// service, so nothing here crosses threads).
final class HandshakerStreamCall: Sendable {
    let eventLoop: any EventLoop
    private let stream: NIOLoopBound<DoHandshakeStream>

    init(connections: HandshakerServiceConnections, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        let stream = DoHandshakeStream(authority: connections.authority, service: connections.address.description)
        self.stream = NIOLoopBound(stream, eventLoop: eventLoop)
        let bound = self.stream
        connections.openStream(on: eventLoop, handler: stream).whenFailure { error in
            bound.value.failedToOpen(error)
        }
    }

    /// Sends `request`; the future holds the service's response to it.
    func send(_ request: Grpc_Gcp_HandshakerReq) -> EventLoopFuture<Grpc_Gcp_HandshakerResp> {
        let promise = eventLoop.makePromise(of: Grpc_Gcp_HandshakerResp.self)
        stream.value.send(request, promise: promise)
        return promise.futureResult
    }

    /// Fails `promise` if the stream ends before `finish()` is called, however that happens
    /// (the service is killed, restarted or ends the stream); succeeds it on `finish()`.
    func watch(_ promise: EventLoopPromise<Void>) {
        stream.value.watch(promise)
    }

    /// No more requests: lets the call end. Callable from any thread (a driver's deinit).
    func finish() {
        if eventLoop.inEventLoop {
            stream.value.finish()
        } else {
            let stream = self.stream
            eventLoop.execute { stream.value.finish() }
        }
    }
}
