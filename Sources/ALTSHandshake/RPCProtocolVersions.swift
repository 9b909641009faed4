/// gRPC's RPC protocol version range (FACTS §4.6). Every gRPC stack sends 2.1…2.1 today.
public struct RPCProtocolVersions: Hashable, Sendable, CustomStringConvertible {
    public struct Version: Hashable, Comparable, Sendable, CustomStringConvertible {
        public var major: UInt32
        public var minor: UInt32

        public init(major: UInt32, minor: UInt32) {
            self.major = major
            self.minor = minor
        }

        public static func < (lhs: Version, rhs: Version) -> Bool {
            (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
        }

        public var description: String { "\(major).\(minor)" }
    }

    public var max: Version
    public var min: Version

    public init(max: Version, min: Version) {
        self.max = max
        self.min = min
    }

    /// What grpcio, grpc-go, grpc-java and Envoy all send.
    public static let grpcDefault = RPCProtocolVersions(max: Version(major: 2, minor: 1), min: Version(major: 2, minor: 1))

    /// The highest version both ranges contain, or nil when they do not overlap.
    public func highestCommonVersion(with peer: RPCProtocolVersions) -> Version? {
        let maxCommon = Swift.min(max, peer.max)
        let minCommon = Swift.max(min, peer.min)
        return maxCommon >= minCommon ? maxCommon : nil
    }

    public var description: String { "\(min)…\(max)" }
}
