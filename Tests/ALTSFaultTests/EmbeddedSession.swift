import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ALTSTestSupport
import NIOCore
import NIOEmbedded

enum Flow: Hashable, Sendable, CustomStringConvertible {
    case clientToServer, serverToClient

    var description: String { self == .clientToServer ? "client→server" : "server→client" }
}

/// One end of a session: what it saw, and the messages it sends once authenticated, each in
/// its own flush, hence its own frame.
final class SessionEndpoint: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let messages: [[UInt8]]
    /// The size of those messages as records: 24 bytes of header and tag around each.
    var sentBytes: Int { messages.reduce(0) { $0 + $1.count + 24 } }
    private(set) var received: [UInt8] = []
    private(set) var errors: [any Error] = []
    private(set) var authenticated = false

    init(messages: [[UInt8]]) { self.messages = messages }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ALTSHandshakeCompletedEvent {
            authenticated = true
            for message in messages { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: message)), promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

/// Where to flip one bit: at a position of a direction's handshake bytes, or at an offset of
/// its records. Counted separately because ECDSA signatures vary by a byte or two in DER, so
/// the handshake's length, and with it where the records start, varies from run to run.
enum FlipTarget: Sendable {
    case handshake(Flow, position: Int)
    case record(Flow, offset: Int)

    var flow: Flow {
        switch self {
        case .handshake(let flow, _), .record(let flow, _): return flow
        }
    }
}

/// A whole ALTS session (handshake, then records both ways) between the production
/// handshake and record handlers on two EmbeddedChannels, with a relay that can flip one
/// byte of one direction. What is pending in a direction is delivered as one read, as a
/// socket would, so the final handshake message and the records behind it arrive together.
final class EmbeddedSession {
    static let clientMessages = ["GET /first", "second request", "the third and last"].map { Array($0.utf8) }
    static let serverMessages = ["welcome", "second reply", "third reply, last"].map { Array($0.utf8) }

    let client: EmbeddedChannel
    let server: EmbeddedChannel
    private var recordsSent: Set<Flow> = []
    let clientEnd = SessionEndpoint(messages: EmbeddedSession.clientMessages)
    let serverEnd = SessionEndpoint(messages: EmbeddedSession.serverMessages)
    private(set) var streams: [Flow: [UInt8]] = [.clientToServer: [], .serverToClient: []]
    /// Each direction's handshake bytes, as far as they went.
    private(set) var handshakeLengths: [Flow: Int] = [.clientToServer: 0, .serverToClient: 0]
    /// Whether the target byte was found and flipped.
    private(set) var flipped = false
    private let flip: FlipTarget?

    init(client clientCredential: ALTSCredential, server serverCredential: ALTSCredential, flip: FlipTarget? = nil) throws {
        self.flip = flip
        client = EmbeddedChannel()
        server = EmbeddedChannel()
        let logger = CapturedLogs().logger()
        try client.pipeline.syncOperations.addHandlers([
            ALTSHandshakeHandler(
                role: .client, driver: ALTSInProcessHandshakeDriver(handshaker: try ALTSHandshaker(role: .client, credential: clientCredential)),
                logger: logger),
            clientEnd,
        ])
        try server.pipeline.syncOperations.addHandlers([
            ALTSHandshakeHandler(
                role: .server, driver: ALTSInProcessHandshakeDriver(handshaker: try ALTSHandshaker(role: .server, credential: serverCredential)),
                logger: logger),
            serverEnd,
        ])
    }

    /// Connects both ends, relays until neither has anything to send, lets the handshake
    /// timeout pass (a stalled handshake is then closed), and finally closes both ends, as a
    /// peer hanging up would.
    func run() throws {
        try runKeepingOpen()
        for channel in [client, server] { (channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(11)) }
        try relayUntilQuiet()
        for channel in [client, server] { _ = try? channel.finish(acceptAlreadyClosed: true) }
    }

    /// Connects both ends and relays until neither has anything to send.
    func runKeepingOpen() throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try server.connect(to: address).wait()
        try client.connect(to: address).wait()
        try relayUntilQuiet()
    }

    /// Replays `bytes` into a fresh server end as its only input, then closes.
    func deliverToServer(_ bytes: [UInt8]) throws {
        try server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try server.writeInbound(ByteBuffer(bytes: bytes))
        (server.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(11))
        _ = try? server.finish(acceptAlreadyClosed: true)
    }

    private func relayUntilQuiet() throws {
        var moved = true
        while moved {
            moved = try relay(.clientToServer, from: client, sender: clientEnd, to: server)
            moved = try relay(.serverToClient, from: server, sender: serverEnd, to: client) || moved
        }
    }

    private func relay(_ flow: Flow, from sender: EmbeddedChannel, sender end: SessionEndpoint, to receiver: EmbeddedChannel) throws -> Bool {
        var pending: [UInt8] = []
        while let buffer = try sender.readOutbound(as: ByteBuffer.self) { pending += buffer.readableBytesView }
        guard !pending.isEmpty else { return false }
        streams[flow]! += pending
        // An end writes all its records the moment it is authenticated, so once it is, they
        // are the tail of what it has pending, behind its last handshake bytes.
        let recordsStart = end.authenticated && !recordsSent.contains(flow) ? pending.count - end.sentBytes : pending.count
        if end.authenticated { recordsSent.insert(flow) }
        let handshakeOffset = handshakeLengths[flow]!
        handshakeLengths[flow]! += recordsStart
        switch flip {
        case .handshake(flow, let position)? where position >= handshakeOffset && position < handshakeOffset + recordsStart:
            pending[position - handshakeOffset] ^= 0x01
            flipped = true
        case .record(flow, let offset)? where recordsStart < pending.count:
            pending[recordsStart + offset] ^= 0x01
            flipped = true
        default:
            break
        }
        // A closed socket takes no more bytes.
        if receiver.isActive { try receiver.writeInbound(ByteBuffer(bytes: pending)) }
        return true
    }
}
