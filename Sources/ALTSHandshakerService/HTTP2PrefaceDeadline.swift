import GRPCNIOTransportHTTP2Posix
import NIOCore

/// Closes a connection whose first 24 bytes (the HTTP/2 client preface) have not arrived
/// within the timeout, then steps aside.
///
/// gRPC's server transport closes a connection whose preface is wrong, but waits for ever for
/// one that is incomplete: a peer that connects and sends 23 bytes or fewer, or nothing, would
/// hold one of the service's sockets until it chose to leave.
final class HTTP2PrefaceDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let prefaceLength = 24

    private let timeout: TimeAmount
    private var received = 0
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
        if received >= Self.prefaceLength {
            deadline?.cancel()
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func arm(context: ChannelHandlerContext) {
        guard deadline == nil, received < Self.prefaceLength else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }
}

extension HandshakerServiceLimits {
    /// The gRPC server transport configuration that serves the service within these limits:
    /// gRPC's defaults plus the deadline for the HTTP/2 client preface.
    public var transportConfig: HTTP2ServerTransport.Posix.Config {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        let timeout = TimeAmount(prefaceTimeout)
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                // Nearest the socket, so it counts the bytes before HTTP/2 sees them.
                try channel.pipeline.syncOperations.addHandler(HTTP2PrefaceDeadlineHandler(timeout: timeout), position: .first)
            }
        }
        return config
    }
}
