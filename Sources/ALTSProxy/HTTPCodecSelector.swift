import NIOCore

/// codec_type AUTO without ALPN (plaintext, or ALTS which negotiates no HTTP version): as
/// Envoy does, an HTTP/2 connection is recognised by its client preface. Holds the first
/// bytes until they decide, then configures the pipeline and replays them.
final class HTTPCodecSelector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let configure: (ChannelHandlerContext, _ isHTTP2: Bool) throws -> Void
    private var buffered: ByteBuffer?

    init(configure: @escaping (ChannelHandlerContext, _ isHTTP2: Bool) throws -> Void) {
        self.configure = configure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        let bytes = buffered!.readableBytesView
        let compared = min(bytes.count, Self.http2Preface.count)
        let isPrefacePrefix = bytes.prefix(compared).elementsEqual(Self.http2Preface.prefix(compared))
        if isPrefacePrefix && compared < Self.http2Preface.count { return }  // not decided yet
        decide(context: context, isHTTP2: isPrefacePrefix)
    }

    func channelInactive(context: ChannelHandlerContext) {
        buffered = nil
        context.fireChannelInactive()
    }

    private func decide(context: ChannelHandlerContext, isHTTP2: Bool) {
        do {
            try configure(context, isHTTP2)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        let replay = buffered
        buffered = nil
        if let replay {
            context.fireChannelRead(wrapInboundOut(replay))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
