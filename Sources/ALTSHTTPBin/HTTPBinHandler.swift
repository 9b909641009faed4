import Crypto
import NIOCore
import NIOHTTP1

/// One connection's requests, one at a time (NIOHTTP1's pipelining handler holds the next
/// request until this one's response has ended).
final class HTTPBinHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case reading(HTTPRequestHead, HTTPBinEndpoint, BodyDigest?)
        case streaming(remaining: Int, keepAlive: Bool)
        case waiting
    }

    private struct BodyDigest {
        var hasher = SHA256()
        var count = 0
    }

    /// 64 KiB of zeros, shared by every /bytes chunk.
    private static let zeros = ByteBuffer(repeating: 0, count: 64 * 1024)
    private var state = State.idle

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let endpoint = HTTPBinEndpoint(method: head.method, uri: head.uri)
            if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            state = .reading(head, endpoint, endpoint.hashesBody ? BodyDigest() : nil)
        case .body(let body):
            guard case .reading(let head, let endpoint, var digest?) = state else { return }
            body.withUnsafeReadableBytes { digest.hasher.update(bufferPointer: $0) }
            digest.count += body.readableBytes
            state = .reading(head, endpoint, digest)
        case .end:
            guard case .reading(let head, let endpoint, let digest) = state else { return }
            state = .waiting
            respond(context: context, head: head, endpoint: endpoint, body: digest.map { ($0.count, $0.hasher.finalize()) })
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { continueStreaming(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, endpoint: HTTPBinEndpoint, body: (Int, SHA256.Digest)?) {
        let request = HTTPBinRequest(head: head, origin: context.remoteAddress?.ipAddress ?? "")
        switch endpoint {
        case .get:
            sendJSON(context: context, head: head, request.getJSON())
        case .headers:
            sendJSON(context: context, head: head, request.headersJSON())
        case .anything:
            let (count, digest) = body ?? (0, SHA256.hash(data: [UInt8]()))
            sendJSON(context: context, head: head, request.anythingJSON(bodyBytes: count, bodySHA256: digest.hexString))
        case .hello:
            send(context: context, head: head, status: .ok, contentType: "text/plain", body: ByteBuffer(string: "Hello, world\n"))
        case .status(let code):
            send(context: context, head: head, status: HTTPResponseStatus(statusCode: code), contentType: nil, body: ByteBuffer())
        case .delay(let seconds):
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .seconds(Int64(seconds))) {
                let (handler, context) = loopBound.value
                handler.sendJSON(context: context, head: head, request.getJSON())
            }
        case .bytes(let count):
            var headers = Self.commonHeaders(head: head, contentType: "application/octet-stream")
            headers.add(name: "content-length", value: String(count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            state = .streaming(remaining: head.method == .HEAD ? 0 : count, keepAlive: head.isKeepAlive)
            continueStreaming(context: context)
        case .methodNotAllowed:
            send(context: context, head: head, status: .methodNotAllowed, contentType: "text/plain", body: ByteBuffer(string: "method not allowed\n"))
        case .badRequest(let reason):
            send(context: context, head: head, status: .badRequest, contentType: "text/plain", body: ByteBuffer(string: reason + "\n"))
        case .notFound:
            send(context: context, head: head, status: .notFound, contentType: "text/plain", body: ByteBuffer(string: "not found\n"))
        }
    }

    /// Writes /bytes chunks while the socket takes them; the rest waits for writability, so
    /// a slow reader never makes this process buffer the body.
    private func continueStreaming(context: ChannelHandlerContext) {
        guard case .streaming(var remaining, let keepAlive) = state else { return }
        while remaining > 0, context.channel.isWritable {
            let chunk = Self.zeros.getSlice(at: 0, length: min(remaining, Self.zeros.readableBytes))!
            remaining -= chunk.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
        }
        state = .streaming(remaining: remaining, keepAlive: keepAlive)
        if remaining == 0 {
            state = .idle
            end(context: context, keepAlive: keepAlive)
        } else {
            context.flush()
        }
    }

    private func sendJSON(context: ChannelHandlerContext, head: HTTPRequestHead, _ json: String) {
        send(context: context, head: head, status: .ok, contentType: "application/json", body: ByteBuffer(string: json))
    }

    private func send(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, contentType: String?, body: ByteBuffer) {
        var headers = Self.commonHeaders(head: head, contentType: contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        state = .idle
        end(context: context, keepAlive: head.isKeepAlive)
    }

    private func end(context: ChannelHandlerContext, keepAlive: Bool) {
        let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            ended.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private static func commonHeaders(head: HTTPRequestHead, contentType: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "content-type", value: contentType) }
        headers.add(name: "access-control-allow-origin", value: "*")
        headers.add(name: "access-control-allow-credentials", value: "true")
        if !head.isKeepAlive {
            headers.add(name: "connection", value: "close")
        } else if head.version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        return headers
    }
}

extension SHA256.Digest {
    var hexString: String {
        map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
