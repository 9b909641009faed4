import NIOCore
import Prometheus

/// The two byte counters of one side of the proxy, looked up once rather than per read.
struct WireByteCounters: Sendable {
    let received: Counter
    let sent: Counter

    init(stats: ProxyStats, side: String) {
        received = stats.byteCounter(side: side, direction: "rx")
        sent = stats.byteCounter(side: side, direction: "tx")
    }
}

/// First in a pipeline, so it counts what crosses the socket: ciphertext on ALTS connections.
final class WireByteCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: WireByteCounters

    init(counters: WireByteCounters) {
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counters.received.increment(by: Int64(unwrapInboundIn(data).readableBytes))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        counters.sent.increment(by: Int64(unwrapOutboundIn(data).readableBytes))
        context.write(data, promise: promise)
    }
}
