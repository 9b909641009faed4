import NIOCore
import NIOHTTP1

/// What an upstream exchange reports to the downstream request that owns it. Every call
/// arrives on the shared event loop.
protocol UpstreamExchangeDelegate: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection or stream ended before the response did (nil error: a clean close).
    func upstreamFailed(_ error: (any Error)?)
}

/// The last handler of an upstream HTTP/1.1 connection or HTTP/2 stream channel: it hands
/// response parts to the request that currently owns the channel, and remembers whether
/// the channel may carry another request.
final class UpstreamExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Strong: the request owns the exchange for its duration and `detach()` breaks the cycle.
    private var delegate: (any UpstreamExchangeDelegate)?
    /// False once the response said `connection: close`, or the channel failed.
    private(set) var reusable = true
    private(set) var responseComplete = false

    func attach(_ delegate: any UpstreamExchangeDelegate) {
        self.delegate = delegate
        responseComplete = false
    }

    func detach() {
        delegate = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head) where head.status.code >= 200:
            if !head.isKeepAlive { reusable = false }
        case .end:
            responseComplete = true
        default:
            break
        }
        delegate?.upstreamReceived(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        reusable = false
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamFailed(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reusable = false
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamFailed(error)
        context.close(promise: nil)
    }
}
