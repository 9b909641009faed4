import NIOCore
import NIOHTTP1

/// Proxies the requests of one HTTP/1.1 connection, one at a time, or of one HTTP/2 stream.
///
/// Bodies stream in both directions with backpressure: when the side being written to is not
/// writable, the side being read from stops reading, so memory stays bounded whatever the
/// body size.
///
/// HTTP/1.1 pipelining is handled here rather than by NIO's `HTTPServerPipelineHandler`,
/// which holds back the channel's read while any response is pending: the socket's read
/// interest then goes off and on again around every request, two `epoll_ctl` calls per
/// request on the common, unpipelined path. Here reading stops only when a client actually
/// sends a request before the previous response ended; that request waits in `pipelined`
/// (at most what one read decoded) until its turn.
final class HTTPProxyHandler: ChannelInboundHandler, UpstreamExchangeDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Waiting for an upstream; the request parts read so far wait in `pending`.
        case connecting(Exchange)
        case proxying(Exchange, UpstreamLease)
        /// A local reply was sent before the request ended: the rest of it is read and dropped.
        case discarding
        case closed
    }

    /// One request and its response, as far as they have got.
    private final class Exchange {
        let pool: UpstreamPool
        let keepAlive: Bool
        let expectsBody: Bool
        let timeout: Duration?
        var pending: [HTTPClientRequestPart] = []
        /// An HTTP/2 request without content-length: the head waits for the next part, which
        /// tells whether a body follows (and so whether it must go chunked upstream).
        var heldHead: HTTPRequestHead?
        var requestEnded = false
        var responseStarted = false
        var timer: Scheduled<Void>?

        init(pool: UpstreamPool, keepAlive: Bool, expectsBody: Bool, timeout: Duration?) {
            self.pool = pool
            self.keepAlive = keepAlive
            self.expectsBody = expectsBody
            self.timeout = timeout
        }

        /// Body bytes the downstream may still send: answering now means closing after.
        var bodyPending: Bool { expectsBody && !requestEnded }
    }

    private let connection: DownstreamConnection
    private let isHTTP2: Bool
    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// What flow control wants (false while the upstream cannot take more).
    private var flowAllowsReading = true
    /// Whether the channel reads now: flow control allows it and nothing waits in `pipelined`.
    private var downstreamReading = true
    /// Parts of HTTP/1.1 requests that arrived before the response in progress ended.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var deliveringPipelined = false

    init(connection: DownstreamConnection, isHTTP2: Bool) {
        self.connection = connection
        self.isHTTP2 = isHTTP2
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        self.context = nil
    }

    // MARK: Downstream

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .closed = state { return }
        if !pipelined.isEmpty || (Self.isHead(part) && !isIdle) {
            pipelined.append(part)
            updateDownstreamReading()
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            begin(head, context: context)
        case .body(let body):
            forward(.body(.byteBuffer(body)))
        case .end(let trailers):
            switch state {
            case .discarding:
                state = .idle
                deliverPipelined()
            case .connecting(let exchange), .proxying(let exchange, _):
                exchange.requestEnded = true
                forward(.end(trailers))
                startTimer(exchange)
            case .idle, .closed:
                break
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(_, let lease) = state { lease.channel.flush() }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(_, let lease) = state {
            lease.channel.setAutoRead(context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.logger.debug("downstream error", metadata: ["listener": "\(connection.listenerName)", "error": "\(error)"])
        // A request that cannot be parsed gets a 400 when no response is under way (one in
        // progress cannot be turned into another); the decoder accepts nothing after it.
        let answer = error is HTTPParserError && isIdle && pipelined.isEmpty
        abandon()
        if answer {
            writeLocalReply(.badRequest, keepAlive: false)
        } else {
            context.close(promise: nil)
        }
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        let keepAlive = isHTTP2 || head.isKeepAlive
        let expectsBody = Self.expectsBody(head, isHTTP2: isHTTP2)
        let authority = head.headers.first(name: "host")
        guard let route = connection.routes.resolve(authority: authority, path: head.uri),
              let pool = connection.pools[route.action.cluster]
        else {
            connection.logger.debug("no route", metadata: ["authority": "\(authority ?? "")", "path": "\(head.uri)"])
            reply(.noRoute, keepAlive: keepAlive, requestEnded: false, bodyPending: expectsBody)
            return
        }
        if head.headers.contains(name: "expect"), head.headers[canonicalForm: "expect"].contains(where: { $0.equalsIgnoringASCIICase("100-continue") }) {
            // Envoy's default: the proxy itself invites the body, the upstream never sees Expect.
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        let exchange = Exchange(pool: pool, keepAlive: keepAlive, expectsBody: expectsBody, timeout: route.action.timeout)
        let upstreamHead = HeaderRewriting.upstreamRequest(head, route: route, downstream: connection.identity) { RequestID.make() }
        if isHTTP2, !upstreamHead.headers.contains(name: "content-length") {
            exchange.heldHead = upstreamHead
        } else {
            exchange.pending.append(.head(upstreamHead))
        }
        state = .connecting(exchange)
        // A pooled connection arrives before acquire returns; only a new one (a connect and
        // a handshake away) makes the body wait, and only then is reading paused.
        var settled = false
        pool.acquire { [self] result in
            settled = true
            guard case .connecting(let current) = state, current === exchange else {
                if case .success(let lease) = result { pool.release(lease, requestComplete: false) }
                return
            }
            switch result {
            case .success(let lease):
                connected(exchange, lease)
            case .failure(let error):
                let upstreamError = error as? UpstreamConnectError ?? UpstreamConnectError(endpoint: pool.cluster.endpoints[0], underlying: error)
                connection.logger.warning("upstream connect failed", metadata: ["cluster": "\(pool.cluster.name)", "error": "\(upstreamError)"])
                reply(.connectFailure(upstreamError), keepAlive: exchange.keepAlive, requestEnded: exchange.requestEnded, bodyPending: exchange.bodyPending)
            }
        }
        if !settled { setDownstreamReading(false) }
    }

    private func connected(_ exchange: Exchange, _ lease: UpstreamLease) {
        state = .proxying(exchange, lease)
        lease.exchange.attach(self)
        for part in exchange.pending { lease.channel.write(part, promise: nil) }
        exchange.pending.removeAll()
        lease.channel.flush()
        setDownstreamReading(lease.channel.isWritable)
    }

    private func forward(_ part: HTTPClientRequestPart) {
        switch state {
        case .connecting(let exchange):
            exchange.pending.append(contentsOf: release(heldHeadOf: exchange, before: part))
            exchange.pending.append(part)
        case .proxying(let exchange, let lease):
            for head in release(heldHeadOf: exchange, before: part) { lease.channel.write(head, promise: nil) }
            lease.channel.write(part, promise: nil)
            if case .end = part { lease.channel.flush() }
            if !lease.channel.isWritable { setDownstreamReading(false) }
        case .idle, .discarding, .closed:
            break
        }
    }

    private func release(heldHeadOf exchange: Exchange, before part: HTTPClientRequestPart) -> [HTTPClientRequestPart] {
        guard var head = exchange.heldHead else { return [] }
        exchange.heldHead = nil
        if case .body = part, !head.headers.contains(name: "transfer-encoding") {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        return [.head(head)]
    }

    private func startTimer(_ exchange: Exchange) {
        guard let timeout = exchange.timeout, let context else { return }
        exchange.timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(timeout.milliseconds) * 1_000_000)) { [self] in
            timedOut(exchange)
        }
    }

    private func timedOut(_ exchange: Exchange) {
        switch state {
        case .connecting(let current) where current === exchange:
            break
        case .proxying(let current, let lease) where current === exchange:
            exchange.pool.release(lease, requestComplete: false)
        default:
            return
        }
        connection.logger.info("upstream request timeout", metadata: ["cluster": "\(exchange.pool.cluster.name)"])
        if exchange.responseStarted {
            resetDownstream()
        } else {
            reply(.upstreamTimeout, keepAlive: exchange.keepAlive, requestEnded: true, bodyPending: false)
        }
    }

    // MARK: Upstream

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard case .proxying(let exchange, let lease) = state, let context else { return }
        switch part {
        case .head(let head):
            if head.status.code < 200 { return }  // 100 Continue was answered here already
            exchange.responseStarted = true
            connection.countResponse(code: Int(head.status.code))
            let response = HeaderRewriting.downstreamResponse(head, serverName: connection.manager.serverName, keepAlive: exchange.keepAlive || isHTTP2)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if !context.channel.isWritable {
                // The flush may drain the socket and fire writability (which turns upstream
                // reading back on) before it returns: only a channel still full stops reading.
                context.flush()
                if !context.channel.isWritable {
                    lease.channel.setAutoRead(false)
                }
            }
        case .end(let trailers):
            exchange.timer?.cancel()
            let requestEnded = exchange.requestEnded
            exchange.pool.release(lease, requestComplete: requestEnded)
            // Set before writing: the pipelining handler may hand us the next request from
            // inside this write.
            state = requestEnded ? .idle : .discarding
            setDownstreamReading(true)
            let done = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
            if !exchange.keepAlive || !requestEnded {
                done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                deliverPipelined()
            }
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        guard case .proxying(let exchange, _) = state, !exchange.requestEnded else { return }
        setDownstreamReading(isWritable)
    }

    func upstreamFailed(_ error: (any Error)?) {
        guard case .proxying(let exchange, let lease) = state else { return }
        exchange.timer?.cancel()
        exchange.pool.release(lease, requestComplete: false)
        connection.logger.info("upstream reset", metadata: ["cluster": "\(exchange.pool.cluster.name)", "error": "\(error.map { "\($0)" } ?? "connection closed")"])
        if exchange.responseStarted {
            resetDownstream()
        } else {
            reply(.connectionTermination, keepAlive: exchange.keepAlive, requestEnded: exchange.requestEnded, bodyPending: exchange.bodyPending)
        }
    }

    // MARK: Helpers

    /// `bodyPending`: the downstream may still send body bytes. Such a request cannot be
    /// answered and the connection (or stream) kept: Envoy closes it too.
    private func reply(_ reply: LocalReply, keepAlive: Bool, requestEnded: Bool, bodyPending: Bool) {
        let keep = keepAlive && !bodyPending
        state = requestEnded ? .idle : .discarding
        setDownstreamReading(true)
        writeLocalReply(reply, keepAlive: keep)
        if keep { deliverPipelined() }
    }

    private func writeLocalReply(_ reply: LocalReply, keepAlive: Bool) {
        guard let context else { return }
        connection.countResponse(code: Int(reply.status.code))
        context.write(wrapOutboundOut(.head(reply.head(serverName: connection.manager.serverName, keepAlive: keepAlive || isHTTP2))), promise: nil)
        if !reply.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Hands waiting pipelined parts over in order: the next request's head only once the
    /// previous exchange is over, its body and end as they come. Not re-entered: a request
    /// answered at once (a local reply) returns here through `reply`.
    private func deliverPipelined() {
        guard !deliveringPipelined, let context else { return }
        deliveringPipelined = true
        defer { deliveringPipelined = false }
        while let part = pipelined.first {
            if case .closed = state { pipelined.removeAll(); break }
            if Self.isHead(part) && !isIdle { break }
            handle(pipelined.removeFirst(), context: context)
        }
        updateDownstreamReading()
    }

    private var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private static func isHead(_ part: HTTPServerRequestPart) -> Bool {
        if case .head = part { return true }
        return false
    }

    /// A response already under way cannot become an error response: the downstream
    /// connection (HTTP/1.1) or stream (HTTP/2) is reset instead, as Envoy does.
    private func resetDownstream() {
        state = .closed
        context?.close(promise: nil)
    }

    private func abandon() {
        switch state {
        case .connecting(let exchange):
            exchange.timer?.cancel()
        case .proxying(let exchange, let lease):
            exchange.timer?.cancel()
            exchange.pool.release(lease, requestComplete: false)
        case .idle, .discarding, .closed:
            break
        }
        state = .closed
        pipelined.removeAll()
    }

    static func expectsBody(_ head: HTTPRequestHead, isHTTP2: Bool) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        if let length = head.headers.first(name: "content-length") { return length != "0" }
        // HTTP/1.1 without either has no body; HTTP/2 says so only with END_STREAM.
        return isHTTP2
    }

    private func setDownstreamReading(_ reading: Bool) {
        flowAllowsReading = reading
        updateDownstreamReading()
    }

    private func updateDownstreamReading() {
        let reading = flowAllowsReading && pipelined.isEmpty
        guard reading != downstreamReading, let context else { return }
        downstreamReading = reading
        context.channel.setAutoRead(reading)
        if reading { context.read() }
    }
}
