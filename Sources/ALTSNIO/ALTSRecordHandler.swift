import ALTSHandshake
import ALTSRecord
import Logging
import NIOCore

/// Puts the ALTS record protocol on a channel: outbound ByteBuffers are sealed into frames,
/// inbound frames are opened into plaintext ByteBuffers. Install it when the handshake is
/// done, handing it the bytes that arrived after the last handshake message.
///
/// Writes are sealed at flush time, so many small writes (HTTP/2 frames) share ALTS frames.
/// Any record error closes the channel, after logging a reason that names the error, and
/// fails every write that has not gone out.
public final class ALTSRecordHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Writes at least this big are sealed straight from their buffer; smaller ones are
    /// gathered first so they share frames.
    private static let directSealThreshold = 8_192

    private let protector: ALTSRecordProtector
    private let logger: Logger
    private var cumulation: ByteBuffer?
    private var pendingWrites: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    private var staging: ByteBuffer?
    private var failure: (any Error)?
    private var awaitingPossibleAlert: Bool

    /// - Parameters:
    ///   - leftoverBytes: bytes read with the final handshake message that belong to the
    ///     record layer; they are opened before anything else.
    ///   - expectPeerHandshakeAlert: set on a client. Its handshake ends before the server has
    ///     checked the client's certificate, so the server's first bytes may be a handshake
    ///     alert instead of a record. Those 5 bytes can never start a valid record (as a length
    ///     they exceed every receive limit), so they are recognised and reported as the
    ///     server's refusal instead of as a malformed frame.
    public init(
        protector: ALTSRecordProtector, leftoverBytes: ByteBuffer? = nil,
        logger: Logger = Logger(label: "swift-alts.record"), expectPeerHandshakeAlert: Bool = false
    ) {
        self.protector = protector
        self.cumulation = leftoverBytes
        self.logger = logger
        self.awaitingPossibleAlert = expectPeerHandshakeAlert
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, cumulation?.readableBytes ?? 0 > 0 {
            openCumulation(context: context)
        }
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        if cumulation?.readableBytes ?? 0 > 0 {
            openCumulation(context: context)
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        var incoming = unwrapInboundIn(data)
        if cumulation == nil || cumulation!.readableBytes == 0 {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        openCumulation(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if failure == nil, let buffered = cumulation?.readableBytes, buffered > 0 {
            do {
                try protector.checkEndOfStream(bufferedBytes: buffered)
            } catch {
                fail(context: context, error)
            }
        }
        failPendingWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let failure {
            promise?.fail(failure)
            return
        }
        pendingWrites.append((unwrapOutboundIn(data), promise))
    }

    public func flush(context: ChannelHandlerContext) {
        guard failure == nil, !pendingWrites.isEmpty else {
            context.flush()
            return
        }
        // Taken into a local: a write completing inside writeAndFlush may write and flush
        // again, re-entering here, and must find only its own writes pending.
        var writes: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
        swap(&writes, &pendingWrites)
        do {
            let sealed = try seal(writes, allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(sealed), promise: combinedPromise(of: writes, on: context.eventLoop))
        } catch {
            for write in writes { write.promise?.fail(error) }
            fail(context: context, error)
        }
        // Hand the storage back so the next writes do not reallocate it.
        writes.removeAll(keepingCapacity: true)
        if pendingWrites.isEmpty { swap(&writes, &pendingWrites) }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode != .input {
            failPendingWrites(ChannelError.ioOnClosedChannel)
        }
        context.close(mode: mode, promise: promise)
    }

    private static let handshakeAlertHeader: [UInt8] = [21, 0, 0, 1]

    private enum AlertCheck {
        case undecided
        case notAnAlert
        case alert(ALTSHandshakeError)
    }

    /// Whether the stream starts with a 5-byte handshake alert (type 21, length 1, code).
    private func checkForPeerAlert(_ input: ByteBuffer) -> AlertCheck {
        let head = Array(input.readableBytesView.prefix(5))
        let compared = min(head.count, Self.handshakeAlertHeader.count)
        guard head[0..<compared].elementsEqual(Self.handshakeAlertHeader[0..<compared]) else { return .notAnAlert }
        guard head.count == 5 else { return .undecided }
        guard let alert = ALTSHandshakeAlert(rawValue: head[4]) else {
            return .alert(ALTSHandshakeError(.malformedMessage("Alert body is not one known code")))
        }
        return .alert(ALTSHandshakeError(.peerAlert(alert)))
    }

    private func openCumulation(context: ChannelHandlerContext) {
        guard failure == nil, var input = cumulation else { return }
        if awaitingPossibleAlert {
            switch checkForPeerAlert(input) {
            case .undecided:
                return
            case .alert(let refusal):
                fail(context: context, refusal)
                return
            case .notAnAlert:
                awaitingPossibleAlert = false
            }
        }
        cumulation = nil  // drop our reference so the buffer is not copied on write
        var plaintext = context.channel.allocator.buffer(capacity: 0)
        do {
            let consumed = try input.withReadableBytesThrowing { (raw) throws(ALTSRecordError) -> Int in
                try protector.unprotect(raw, into: &plaintext)
            }
            input.moveReaderIndex(forwardBy: consumed)
        } catch {
            fail(context: context, error)
            return
        }
        if input.readableBytes > 0 {
            if input.readerIndex > 0 && input.readerIndex >= input.readableBytes {
                input.discardReadBytes()
            }
            cumulation = input
        }
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(plaintext))
        }
    }

    private func seal(
        _ writes: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)], allocator: ByteBufferAllocator
    ) throws(ALTSRecordError) -> ByteBuffer {
        let plaintextBytes = writes.reduce(0) { $0 + $1.buffer.readableBytes }
        var output = allocator.buffer(capacity: protector.protectedSize(plaintextCount: plaintextBytes) + ALTSFrameFormat.overhead * writes.count)
        var gathered = staging ?? allocator.buffer(capacity: Self.directSealThreshold)
        gathered.clear()
        for write in writes where write.buffer.readableBytes > 0 {
            if write.buffer.readableBytes >= Self.directSealThreshold {
                try sealGathered(&gathered, into: &output)
                try write.buffer.withReadableBytesThrowing { (raw) throws(ALTSRecordError) in
                    try protector.protect(raw, into: &output)
                }
            } else {
                var buffer = write.buffer
                gathered.writeBuffer(&buffer)
            }
        }
        try sealGathered(&gathered, into: &output)
        staging = gathered
        return output
    }

    private func sealGathered(_ gathered: inout ByteBuffer, into output: inout ByteBuffer) throws(ALTSRecordError) {
        guard gathered.readableBytes > 0 else { return }
        try gathered.withReadableBytesThrowing { (raw) throws(ALTSRecordError) in
            try protector.protect(raw, into: &output)
        }
        gathered.clear()
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard failure == nil else { return }
        failure = error
        cumulation = nil
        let reason = error is ALTSHandshakeError ? "peer refused the handshake" : "record protocol error"
        logger.error("closing ALTS connection: \(reason)", metadata: [
            "error": "\(error)",
            "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
        ])
        failPendingWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: any Error) {
        let writes = pendingWrites
        pendingWrites.removeAll()
        for write in writes { write.promise?.fail(error) }
    }

    /// One promise standing for every write of a flush: none, the only one, or a new one that
    /// completes them all.
    private func combinedPromise(
        of writes: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)], on eventLoop: any EventLoop
    ) -> EventLoopPromise<Void>? {
        var first: EventLoopPromise<Void>?
        var count = 0
        for write in writes {
            guard let promise = write.promise else { continue }
            if first == nil { first = promise }
            count += 1
        }
        guard count > 1 else { return first }
        let present = writes.compactMap(\.promise)
        let combined = eventLoop.makePromise(of: Void.self)
        combined.futureResult.whenComplete { result in
            for promise in present { promise.completeWith(result) }
        }
        return combined
    }
}

@available(*, unavailable)
extension ALTSRecordHandler: Sendable {}
