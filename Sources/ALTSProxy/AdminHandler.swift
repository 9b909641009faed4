import NIOCore
import NIOHTTP1

/// The admin listener's endpoints, named as Envoy's: `/ready`, `/stats` (Prometheus text; also
/// at `/stats/prometheus`) and `/config_dump`. Read-only: every endpoint is GET.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let stats: ProxyStats
    private let configDump: String
    private let isReady: @Sendable () -> Bool
    private var request: HTTPRequestHead?

    init(stats: ProxyStats, configDump: String, isReady: @escaping @Sendable () -> Bool) {
        self.stats = stats
        self.configDump = configDump
        self.isReady = isReady
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            let (status, contentType, body) = respond(to: head)
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: String(body.utf8.count))
            if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        }
    }

    private func respond(to head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain", "admin endpoints are read-only: use GET\n")
        }
        let path = String(RouteTable.pathWithoutQuery(head.uri))
        switch path {
        case "/ready":
            return isReady() ? (.ok, "text/plain", "LIVE\n") : (.serviceUnavailable, "text/plain", "PRE_INITIALIZING\n")
        case "/stats", "/stats/prometheus":
            return (.ok, "text/plain; version=0.0.4", stats.prometheusText())
        case "/config_dump":
            return (.ok, "application/json", configDump)
        default:
            return (.notFound, "text/plain", "unknown admin endpoint \(path); try /ready, /stats, /stats/prometheus, /config_dump\n")
        }
    }
}
