import NIOCore

/// Closes a connection after `timeout` without reads or writes (stream_idle_timeout,
/// tcp_proxy idle_timeout).
///
/// NIO's `IdleStateHandler` learns of write activity by attaching a promise and a callback to
/// every write, three allocations per HTTP response part; here a write is noted at its flush,
/// with one clock read, and the timer is re-armed only when it fires.
final class IdleTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        lastActivity = context.eventLoop.now
        arm(context, at: lastActivity + timeout)
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        arm(context, at: lastActivity + timeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        context.fireChannelReadComplete()
    }

    func flush(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        context.flush()
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            let due = lastActivity + timeout
            if context.eventLoop.now >= due {
                context.close(promise: nil)
            } else {
                arm(context, at: due)
            }
        }
    }
}
