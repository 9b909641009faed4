import ALTSNIO

/// The way to a handshaker service, shared by every handshake this process hands over (each
/// is its own `DoHandshake` stream). The service is local (a Unix socket or a link-local
/// address), which is why the connections are not encrypted.
public final class ALTSHandshakerServiceClient: Sendable {
    public let address: ALTSAddress
    let connections: HandshakerServiceConnections

    public init(address: ALTSAddress) throws {
        self.address = address
        self.connections = HandshakerServiceConnections(address: address)
    }

    public func shutdown() {
        connections.shutdown()
    }
}
