import ALTSNIO
import GRPCCore

/// What an ALTS server transport attaches to every RPC's `ServerContext.transportSpecific`.
public struct ALTSServerTransportContext: ServerContext.TransportSpecific {
    public let authInfo: ALTSAuthInfo
}

extension ServerContext {
    /// The ALTS identity of the connection this RPC arrived on: the peer's and our own service
    /// account, the record and application protocols, the peer's RPC versions and attributes.
    /// Nil when the RPC did not come through an `ALTSServerTransport`.
    public var altsAuthInfo: ALTSAuthInfo? {
        (transportSpecific as? ALTSServerTransportContext)?.authInfo
    }
}
