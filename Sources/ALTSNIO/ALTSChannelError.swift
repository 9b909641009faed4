import NIOCore

/// Connection-level failures around the handshake that are not protocol errors.
public struct ALTSChannelError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case handshakeTimeout(seconds: Int64)
        case closedDuringHandshake
        case driverFailed(String)
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .handshakeTimeout(let seconds):
            return "ALTS handshake timed out after \(seconds)s"
        case .closedDuringHandshake:
            return "connection closed by the peer during the ALTS handshake"
        case .driverFailed(let reason):
            return "ALTS handshaker unavailable: \(reason)"
        }
    }
}
