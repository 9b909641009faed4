import NIOCore
import NIOHTTP1

/// Responses the proxy makes itself, with Envoy's status codes and bodies, so that clients
/// and scripts written against Envoy read them the same way.
struct LocalReply: Equatable {
    let status: HTTPResponseStatus
    let body: String

    static let noRoute = LocalReply(status: .notFound, body: "")
    /// A request the HTTP/1 codec could not parse; the connection closes after it.
    static let badRequest = LocalReply(status: .badRequest, body: "Bad Request")
    static let upstreamTimeout = LocalReply(status: .gatewayTimeout, body: "upstream request timeout")

    static func connectFailure(_ error: UpstreamConnectError) -> LocalReply {
        LocalReply(
            status: .serviceUnavailable,
            body: "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: \(error.transportFailureReason)"
        )
    }

    static let connectionTermination = LocalReply(
        status: .serviceUnavailable,
        body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
    )

    func head(serverName: String, keepAlive: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(body.utf8.count))
        if !body.isEmpty { headers.add(name: "content-type", value: "text/plain") }
        headers.add(name: "server", value: serverName)
        if !keepAlive { headers.add(name: "connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }
}
