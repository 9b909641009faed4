import ALTSNIO
import NIOCore
import Synchronization

/// The AuthInfo of every live ALTS connection a server holds, keyed the way grpc-swift names a
/// connection's peers in `ServerContext` (`remotePeer` and `localPeer`), so an RPC can find the
/// identity of the connection it arrived on.
final class ALTSConnectionRegistry: Sendable {
    private let connections = Mutex<[String: ALTSAuthInfo]>([:])

    static func key(remotePeer: String, localPeer: String) -> String {
        remotePeer + "|" + localPeer
    }

    /// The key for a channel, formatted exactly as GRPCNIOTransportCore formats peer addresses.
    static func key(for channel: any Channel) -> String {
        key(remotePeer: describe(channel.remoteAddress, fallback: channel.localAddress),
            localPeer: describe(channel.localAddress, fallback: channel.remoteAddress))
    }

    func register(_ info: ALTSAuthInfo, key: String) {
        connections.withLock { $0[key] = info }
    }

    func remove(key: String) {
        _ = connections.withLock { $0.removeValue(forKey: key) }
    }

    func authInfo(remotePeer: String, localPeer: String) -> ALTSAuthInfo? {
        connections.withLock { $0[Self.key(remotePeer: remotePeer, localPeer: localPeer)] }
    }

    var count: Int { connections.withLock { $0.count } }

    private static func describe(_ address: SocketAddress?, fallback: SocketAddress?) -> String {
        switch address {
        case .v4(let v4)?:
            return "ipv4:\(v4.host):\(address!.port!)"
        case .v6(let v6)?:
            return "ipv6:[\(v6.host)]:\(address!.port!)"
        case .unixDomainSocket?:
            let path = address!.pathname ?? ""
            if !path.isEmpty { return "unix:\(path)" }
            if case .unixDomainSocket? = fallback, let fallbackPath = fallback?.pathname { return "unix:\(fallbackPath)" }
            return "unix:<unknown>"
        case nil:
            if case .unixDomainSocket? = fallback, let fallbackPath = fallback?.pathname { return "unix:\(fallbackPath)" }
            return "<unknown>"
        }
    }
}

/// Registers a connection's AuthInfo when its handshake completes; removes it when the
/// connection goes away.
final class ALTSConnectionRegistrar: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let registry: ALTSConnectionRegistry
    private var key: String?

    init(registry: ALTSConnectionRegistry) {
        self.registry = registry
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? ALTSHandshakeCompletedEvent {
            let key = ALTSConnectionRegistry.key(for: context.channel)
            self.key = key
            registry.register(completed.authInfo, key: key)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        unregister()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        unregister()
    }

    private func unregister() {
        if let key {
            registry.remove(key: key)
            self.key = nil
        }
    }
}
