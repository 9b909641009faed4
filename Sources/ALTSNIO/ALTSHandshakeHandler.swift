import ALTSHandshake
import ALTSRecord
import Logging
import NIOCore

/// Runs an ALTS handshake on a channel, then hands the channel to the record layer.
///
/// The client starts on `channelActive`, the server on its first bytes. Application writes
/// made meanwhile (an HTTP/2 preface, say) are held and go out encrypted once the
/// `ALTSRecordHandler` is in place, fed with the bytes that arrived behind the final handshake
/// message. Then `ALTSHandshakeCompletedEvent` is fired and this handler removes itself.
/// A failure sends the peer its alert, logs the reason, fires the error and closes the channel;
/// so does the handshake timeout, and so does losing the driver's handshaker service
/// mid-handshake (at once, not at the timeout).
public final class ALTSHandshakeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public struct Configuration: Sendable {
        public var handshakeTimeout: TimeAmount = .seconds(10)
        /// Largest record length accepted from the peer.
        public var receiveLimit: Int = ALTSFrameSizing.defaultReceiveLimit
        /// Our own maximum send frame size; the peer's advertised value is clamped to it.
        public var localMaxFrameSize: UInt32 = ALTSFrameSizing.advertisedMaxFrameSize

        public init() {}
    }

    private enum State {
        case idle
        case handshaking
        case finished
        case failed
    }

    private let role: ALTSRole
    private let driver: any ALTSHandshakeDriver
    private let configuration: Configuration
    private let logger: Logger
    private var state = State.idle
    private var callInFlight = false
    private var pendingInput: [UInt8] = []
    private var heldWrites: [(buffer: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    private var timeout: Scheduled<Void>?

    /// Set once the handshake has succeeded.
    public private(set) var authInfo: ALTSAuthInfo?

    public init(
        role: ALTSRole, driver: any ALTSHandshakeDriver, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "swift-alts.handshake")
    ) {
        self.role = role
        self.driver = driver
        self.configuration = configuration
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            begin(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        driver.end()
    }

    public func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .finished:
            context.fireChannelRead(data)
        case .failed:
            return
        case .idle, .handshaking:
            let buffer = unwrapInboundIn(data)
            pendingInput.append(contentsOf: buffer.readableBytesView)
            if pendingInput.count > 4 * 65_536 {
                // The handshake never needs this much; the peer is not speaking it.
                fail(context: context, ALTSHandshakeError(.messageTooLarge(length: pendingInput.count, limit: 4 * 65_536)), alert: [])
                return
            }
            feedPendingInput(context: context)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if state == .handshaking || state == .idle {
            fail(context: context, ALTSChannelError(.closedDuringHandshake), alert: [], close: false)
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if state == .handshaking {
            fail(context: context, error, alert: [])
        } else {
            context.fireErrorCaught(error)
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .finished:
            context.write(data, promise: promise)
        case .failed:
            promise?.fail(ALTSChannelError(.closedDuringHandshake))
        case .idle, .handshaking:
            heldWrites.append((unwrapOutboundIn(data), promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        // Held writes are flushed when the handshake completes.
        if state == .finished {
            context.flush()
        }
    }

    // MARK: Driving the handshake

    private func begin(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .handshaking
        let timeoutAmount = configuration.handshakeTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeoutAmount) {
            self.fail(context: context, ALTSChannelError(.handshakeTimeout(seconds: timeoutAmount.nanoseconds / 1_000_000_000)), alert: [])
        }
        // The driver ends the watch (succeeding it) from fail() and complete(), which breaks
        // the reference cycle this callback makes through the driver.
        driver.lost(on: context.eventLoop)?.assumeIsolated().whenFailure { error in
            self.fail(context: context, ALTSChannelError(.driverFailed("\(error)")), alert: [])
        }
        if role == .client {
            call(driver.start(on: context.eventLoop), input: [], context: context)
        } else {
            feedPendingInput(context: context)
        }
    }

    private func feedPendingInput(context: ChannelHandlerContext) {
        guard state == .handshaking, !callInFlight, !pendingInput.isEmpty else { return }
        let input = pendingInput
        pendingInput = []
        call(driver.process(input, on: context.eventLoop), input: input, context: context)
    }

    private func call(_ future: EventLoopFuture<ALTSHandshakeStep>, input: [UInt8], context: ChannelHandlerContext) {
        callInFlight = true
        future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            self.callInFlight = false
            switch result {
            case .success(let step):
                self.handle(step, input: input, context: context)
            case .failure(let error):
                self.fail(context: context, ALTSChannelError(.driverFailed("\(error)")), alert: [])
            }
        }
    }

    private func handle(_ step: ALTSHandshakeStep, input: [UInt8], context: ChannelHandlerContext) {
        guard state == .handshaking else { return }
        switch step.outcome {
        case .inProgress:
            if !step.outBytes.isEmpty {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: step.outBytes)), promise: nil)
            }
            feedPendingInput(context: context)
        case .completed(let result):
            if !step.outBytes.isEmpty {
                context.write(wrapOutboundOut(ByteBuffer(bytes: step.outBytes)), promise: nil)
            }
            let consumed = min(step.bytesConsumed, input.count)
            complete(context: context, result: result, leftover: Array(input[consumed...]) + pendingInput)
        case .failed(let error):
            fail(context: context, error, alert: step.outBytes)
        }
    }

    private func complete(context: ChannelHandlerContext, result: ALTSHandshakeResult, leftover: [UInt8]) {
        var result = result
        defer { result.wipeKeyData() }
        let recordHandler: ALTSRecordHandler
        do {
            let protector = try ALTSRecordProtector(
                recordProtocol: try ALTSRecordProtocol(name: result.recordProtocol),
                role: role,
                keyData: result.keyData,
                maxSendFrameLength: ALTSFrameSizing.sendFrameLength(
                    peerMaxFrameSize: result.peerMaxFrameSize, localMaxFrameSize: configuration.localMaxFrameSize),
                receiveLimit: configuration.receiveLimit)
            recordHandler = ALTSRecordHandler(protector: protector, logger: logger, expectPeerHandshakeAlert: role == .client)
        } catch {
            fail(context: context, error, alert: [])
            return
        }
        do {
            // Head side of this handler, so everything written from here on is sealed.
            try context.pipeline.syncOperations.addHandler(recordHandler, position: .before(self))
        } catch {
            fail(context: context, error, alert: [])
            return
        }
        state = .finished
        pendingInput = []
        timeout?.cancel()
        driver.end()
        let info = ALTSAuthInfo(result: result)
        authInfo = info
        logger.debug("ALTS handshake complete", metadata: [
            "peer": "\(info.peerServiceAccount)", "local": "\(info.localServiceAccount)",
            "record_protocol": "\(info.recordProtocol)",
        ])
        // Held writes go out first, then the completion is announced (whatever the layers above
        // write in reaction to it follows, sealed), then the peer's early records are opened:
        // what the layers above write in answer to those (an HTTP/2 SETTINGS ACK) must follow
        // what they wrote first (their own SETTINGS), or the peer sees frames out of order.
        let writes = heldWrites
        heldWrites = []
        for write in writes {
            context.write(wrapOutboundOut(write.buffer), promise: write.promise)
        }
        context.flush()
        context.fireUserInboundEventTriggered(ALTSHandshakeCompletedEvent(authInfo: info))
        if !leftover.isEmpty {
            // From the head, so the bytes pass through the record handler.
            context.pipeline.syncOperations.fireChannelRead(NIOAny(ByteBuffer(bytes: leftover)))
            context.pipeline.syncOperations.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error, alert: [UInt8], close: Bool = true) {
        guard state == .idle || state == .handshaking else { return }
        state = .failed
        timeout?.cancel()
        pendingInput = []
        driver.end()
        logger.error("ALTS handshake failed", metadata: [
            "error": "\(error)",
            "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
        ])
        let writes = heldWrites
        heldWrites = []
        for write in writes { write.promise?.fail(error) }
        // The alert goes out before the error is announced: handlers above (gRPC's among them)
        // close the channel as soon as they see an error, and the peer should learn why.
        let alertWritten = alert.isEmpty ? nil : context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: alert)))
        context.fireErrorCaught(error)
        guard close else { return }
        if let alertWritten {
            alertWritten.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ALTSHandshakeHandler: Sendable {}
