import NIOCore

/// One end of a byte tunnel between two channels (tcp_proxy). Each end reads only while the
/// other end can write, so a fast sender cannot fill memory behind a slow receiver.
final class TunnelEnd: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TunnelEnd?
    private var context: ChannelHandlerContext?
    private var readPending = false
    /// What the partner read before this end joined its pipeline.
    private var early: [NIOAny] = []

    static func pair() -> (TunnelEnd, TunnelEnd) {
        let first = TunnelEnd()
        let second = TunnelEnd()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !early.isEmpty {
            for data in early { context.write(data, promise: nil) }
            early.removeAll()
            context.flush()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        partner = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if let partner, let partnerContext = partner.context, !partnerContext.channel.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    private func partnerWrite(_ data: NIOAny) {
        if let context {
            context.write(data, promise: nil)
        } else {
            early.append(data)
        }
    }

    private func partnerBecameWritable() {
        if readPending, let context {
            readPending = false
            context.read()
        }
    }
}

/// tcp_proxy's downstream side: at accept, connects to the cluster (as Envoy does, without
/// waiting for data), then joins the two channels with a tunnel. Reading waits until then.
final class TCPProxyStarter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let pool: UpstreamPool
    private var buffered: [NIOAny] = []
    private var downstreamClosed = false

    init(pool: UpstreamPool) {
        self.pool = pool
    }

    func channelActive(context: ChannelHandlerContext) {
        context.channel.setAutoRead(false)
        context.fireChannelActive()
        let (downstreamEnd, upstreamEnd) = TunnelEnd.pair()
        pool.openTunnel(upstreamEnd).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let upstream):
                guard !downstreamClosed else {
                    upstream.close(promise: nil)
                    return
                }
                do {
                    try context.pipeline.syncOperations.addHandler(downstreamEnd, position: .after(self))
                } catch {
                    upstream.close(promise: nil)
                    context.close(promise: nil)
                    return
                }
                for data in buffered { context.fireChannelRead(data) }
                if !buffered.isEmpty { context.fireChannelReadComplete() }
                buffered.removeAll()
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                context.channel.setAutoRead(true)
            case .failure(let error):
                pool.logger.warning("tcp_proxy upstream connect failed", metadata: ["cluster": "\(pool.cluster.name)", "error": "\(error)"])
                context.close(promise: nil)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffered.append(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        downstreamClosed = true
        buffered.removeAll()
        context.fireChannelInactive()
    }
}
