import ALTSHandshakerProto
import ALTSNIO
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore

/// One plaintext gRPC connection to a handshaker service, shared by every handshake this
/// process hands over (each is its own `DoHandshake` stream on it). The service is local (a
/// Unix socket or a link-local address), which is why the channel is not encrypted.
public final class ALTSHandshakerServiceClient: Sendable {
    public let address: ALTSAddress
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    public init(address: ALTSAddress) throws {
        self.address = address
        let target: any ResolvableTarget
        switch address {
        case .host(let host, let port):
            target = ResolvableTargets.DNS(host: host, port: port)
        case .unixDomainSocket(let path):
            target = ResolvableTargets.UnixDomainSocket(address: .init(path: path), authority: "localhost")
        }
        let transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: .plaintext)
        let client = GRPCClient(transport: transport)
        self.client = client
        // Runs for the life of the process (or until shutdown), reconnecting as needed.
        connections = Task { try? await client.runConnections() }
    }

    public func shutdown() {
        client.beginGracefulShutdown()
    }
}
