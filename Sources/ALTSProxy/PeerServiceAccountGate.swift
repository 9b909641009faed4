import ALTSNIO
import ALTSProxyConfig
import Logging
import NIOCore

/// Envoy's handshake validator on an ALTS listener: once the handshake completes, the peer's
/// account must be in `peer_service_accounts`, or the connection is closed before a single
/// byte of it reaches the filters. Nothing passes before that decision.
final class PeerServiceAccountGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let socket: ALTSTransportSocketConfig
    private let listenerName: String
    private let stats: ProxyStats
    private let logger: Logger
    private let admitted: (String) -> Void
    private var decided: Bool?

    init(socket: ALTSTransportSocketConfig, listenerName: String, stats: ProxyStats, logger: Logger, admitted: @escaping (String) -> Void) {
        self.socket = socket
        self.listenerName = listenerName
        self.stats = stats
        self.logger = logger
        self.admitted = admitted
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? ALTSHandshakeCompletedEvent {
            let peer = completed.authInfo.peerServiceAccount
            guard socket.admits(peer) else {
                decided = false
                let mismatch = PeerServiceAccountMismatch(peer: peer, allowed: socket.peerServiceAccounts)
                logger.warning("Handshake validation failed: \(mismatch)", metadata: ["listener": "\(listenerName)", "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"])
                stats.handshake(side: "downstream", name: listenerName, result: handshakeFailureReason(mismatch))
                context.close(promise: nil)
                return
            }
            decided = true
            stats.handshake(side: "downstream", name: listenerName, result: "ok")
            logger.debug("downstream ALTS handshake ok", metadata: ["listener": "\(listenerName)", "peer": "\(peer)"])
            admitted(peer)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard decided == true else { return }
        context.fireChannelRead(data)
    }
}
