import ALTSHandshakerProto
import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf

/// One `grpc.gcp.HandshakerService/DoHandshake` call on an HTTP/2 stream channel, in gRPC's
/// wire format: request messages out, each answered by one response, in order.
///
/// A handshake through the service costs two such streams, and grpc-swift's general client
/// (a task, request and response sequences and several thread hand-offs per call) cost more
/// CPU than the handshake's own cryptography. This handler does the one call shape the
/// handshake needs on the connection's event loop. HTTP/2 is NIOHTTP2's and protobuf is
/// SwiftProtobuf's; what is written here is gRPC's 5-byte message prefix and its status
/// trailers. Everything is touched on the stream's event loop only.
final class DoHandshakeStream: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// gRPC's default limit on a received message, checked before any buffering.
    static let maxResponseBytes = 4 * 1024 * 1024
    static let path = "/grpc.gcp.HandshakerService/DoHandshake"

    private let authority: String
    /// The service's address, for error messages.
    private let service: String
    private var context: ChannelHandlerContext?
    private var active = false
    /// Framed requests written before the stream was active.
    private var unsent: [ByteBuffer] = []
    private var callers = CircularBuffer<EventLoopPromise<Grpc_Gcp_HandshakerResp>>()
    private var watcher: EventLoopPromise<Void>?
    private var finishedByUs = false
    private var requestStreamClosed = false
    private var ended: (any Error)?
    private var receivedHeaders = false
    private var inbound = ByteBuffer()

    init(authority: String, service: String) {
        self.authority = authority
        self.service = service
    }

    // MARK: Calls from the handshake (on the stream's event loop)

    func send(_ request: Grpc_Gcp_HandshakerReq, promise: EventLoopPromise<Grpc_Gcp_HandshakerResp>) {
        if let ended { return promise.fail(ended) }
        let message: [UInt8]
        do {
            message = try request.serializedBytes()
        } catch {
            return promise.fail(RPCError(code: .internalError, message: "cannot encode the handshaker request: \(error)"))
        }
        var framed = ByteBuffer()
        framed.reserveCapacity(5 + message.count)
        framed.writeInteger(UInt8(0))  // not compressed
        framed.writeInteger(UInt32(message.count))
        framed.writeBytes(message)
        callers.append(promise)
        if active, let context {
            context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(framed)))), promise: nil)
        } else {
            unsent.append(framed)
        }
    }

    /// Fails `promise` if the stream ends before `finish()`, however it ends; succeeds it then.
    func watch(_ promise: EventLoopPromise<Void>) {
        if finishedByUs { return promise.succeed() }
        if let ended { return promise.fail(ended) }
        watcher = promise
    }

    /// No more requests: the request stream is closed and the service ends the call.
    func finish() {
        guard !finishedByUs else { return }
        finishedByUs = true
        watcher?.succeed()
        watcher = nil
        closeRequestStream()
    }

    /// The stream could not be opened.
    func failedToOpen(_ error: any Error) {
        end(with: error)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { becameActive(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive(context)
        context.fireChannelActive()
    }

    private func becameActive(_ context: ChannelHandlerContext) {
        guard !active else { return }
        active = true
        let headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": Self.path, ":authority": authority,
            "content-type": "application/grpc", "te": "trailers", "user-agent": "swift-alts",
        ]
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        for framed in unsent { context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(framed)))), promise: nil) }
        unsent = []
        context.flush()
        if finishedByUs { closeRequestStream() }
    }

    private func closeRequestStream() {
        guard active, !requestStreamClosed, ended == nil, let context else { return }
        requestStreamClosed = true
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if receivedHeaders || headers.endStream {
                // Trailers, or a trailers-only response (an error before any message).
                if !receivedHeaders, let failure = Self.httpFailure(headers.headers) { return fail(failure) }
                receivedHeaders = true
                trailers(headers.headers)
            } else {
                receivedHeaders = true
                if let failure = Self.httpFailure(headers.headers) { fail(failure) }
            }
        case .data(let data):
            guard case .byteBuffer(var bytes) = data.data else { return }
            inbound.writeBuffer(&bytes)
            deliverMessages()
            if data.endStream, ended == nil {
                fail(RPCError(code: .internalError, message: "the handshaker service ended the stream without a status"))
            }
        case .rstStream(let code):
            fail(RPCError(code: .unavailable, message: "the handshaker service reset the stream (\(code))"))
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(with: RPCError(code: .unavailable, message: "the connection to the handshaker service at \(service) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RPCError(code: .unavailable, message: "the stream to the handshaker service failed: \(error)"))
    }

    // MARK: gRPC framing

    private func deliverMessages() {
        while ended == nil, inbound.readableBytes >= 5 {
            let start = inbound.readerIndex
            let compressed = inbound.getInteger(at: start, as: UInt8.self)!
            let length = Int(inbound.getInteger(at: start + 1, as: UInt32.self)!)
            guard compressed == 0 else {
                return fail(RPCError(code: .internalError, message: "the handshaker service sent a compressed message, which was not negotiated"))
            }
            guard length <= Self.maxResponseBytes else {
                return fail(RPCError(code: .resourceExhausted, message: "the handshaker service sent a \(length)-byte message; the limit is \(Self.maxResponseBytes)"))
            }
            guard inbound.readableBytes >= 5 + length else { break }
            inbound.moveReaderIndex(forwardBy: 5)
            let message = inbound.readBytes(length: length)!
            guard let caller = callers.popFirst() else {
                return fail(RPCError(code: .internalError, message: "the handshaker service sent a response nobody asked for"))
            }
            do {
                caller.succeed(try Grpc_Gcp_HandshakerResp(serializedBytes: message))
            } catch {
                let undecodable = RPCError(code: .internalError, message: "cannot decode the handshaker response: \(error)")
                caller.fail(undecodable)
                return fail(undecodable)
            }
        }
        inbound.discardReadBytes()
    }

    private func trailers(_ headers: HPACKHeaders) {
        let code = headers.first(name: "grpc-status").flatMap(Int.init).flatMap { Status.Code(rawValue: $0) }.flatMap { RPCError.Code($0) }
        let message = headers.first(name: "grpc-message").map(Self.percentDecoded) ?? ""
        guard let statusText = headers.first(name: "grpc-status") else {
            return fail(RPCError(code: .internalError, message: "the handshaker service ended the stream without a grpc-status"))
        }
        if statusText == "0" {
            end(with: RPCError(code: .unavailable, message: "the handshaker service ended the stream"))
        } else {
            end(with: RPCError(code: code ?? .unknown, message: message))
        }
    }

    /// A response that is not gRPC at all (an HTTP error, or another content type).
    private static func httpFailure(_ headers: HPACKHeaders) -> RPCError? {
        if let status = headers.first(name: ":status"), status != "200" {
            return RPCError(code: .unavailable, message: "the handshaker service answered HTTP status \(status)")
        }
        if let type = headers.first(name: "content-type"), !type.hasPrefix("application/grpc") {
            return RPCError(code: .internalError, message: "the handshaker service answered with content-type \(type)")
        }
        return nil
    }

    /// grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2: bytes outside printable ASCII, and %).
    static func percentDecoded(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Ending

    /// Ends the call with `error` and resets the stream: the service learns at once.
    private func fail(_ error: any Error) {
        let wasOpen = ended == nil
        end(with: error)
        if wasOpen { context?.close(promise: nil) }
    }

    private func end(with error: any Error) {
        guard ended == nil else { return }
        ended = error
        unsent = []
        while let caller = callers.popFirst() { caller.fail(error) }
        // Only an end we did not ask for is news to the handshake.
        watcher?.fail(error)
        watcher = nil
    }
}
