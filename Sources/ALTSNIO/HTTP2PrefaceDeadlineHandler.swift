import NIOCore

/// Closes a connection whose first 24 bytes (the HTTP/2 client preface) have not arrived
/// within the timeout, then steps aside.
///
/// gRPC's server transport closes a connection whose preface is wrong, but waits for ever for
/// one that is incomplete: a peer that connects and sends 23 bytes or fewer, or nothing, would
/// hold one of the server's sockets until it chose to leave. Behind ALTS that peer is an
/// authenticated one; the deadline then starts when the handshake completes (the handshake
/// has its own timeout).
public final class HTTP2PrefaceDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    public enum Start: Sendable {
        /// When the connection is active: nearest the socket, on a plaintext listener.
        case whenActive
        /// When `ALTSHandshakeCompletedEvent` passes: after the ALTS handlers.
        case afterALTSHandshake
    }

    static let prefaceLength = 24

    private let timeout: TimeAmount
    private let start: Start
    private var received = 0
    private var deadline: Scheduled<Void>?

    public init(timeout: TimeAmount, start: Start) {
        self.timeout = timeout
        self.start = start
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if start == .whenActive, context.channel.isActive { arm(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        if start == .whenActive { arm(context: context) }
        context.fireChannelActive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if start == .afterALTSHandshake, event is ALTSHandshakeCompletedEvent { arm(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
        if received >= Self.prefaceLength {
            deadline?.cancel()
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func arm(context: ChannelHandlerContext) {
        guard deadline == nil, received < Self.prefaceLength else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}
