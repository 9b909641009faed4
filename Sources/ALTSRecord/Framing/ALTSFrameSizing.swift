/// Frame-size limits and the send-size negotiation of FACTS §1.2–1.3. Here a "frame length"
/// is the value of the length field, which never exceeds the negotiated maximum.
public enum ALTSFrameSizing {
    /// What a sender uses when the peer advertised nothing (C-core's and Envoy's floor).
    public static let defaultFrameLength = 16_384
    /// The largest length field we send: grpc-java accepts whole frames of at most 1 MiB.
    public static let maximumSendFrameLength = 1_048_572
    /// The largest length field we accept by default, as grpc-go and C-core do.
    public static let defaultReceiveLimit = 1_048_576
    /// What we advertise in the handshake as our own maximum.
    public static let advertisedMaxFrameSize: UInt32 = 1_048_576

    /// Send lengths we allow to be configured. The lower bound keeps per-frame overhead sane
    /// while still allowing grpc-go's 4 KiB records for vector tests.
    public static let allowedSendFrameLengths = 1_024...maximumSendFrameLength
    /// Receive limits we allow to be configured (C-core's zero-copy protector goes to 16 MiB).
    public static let allowedReceiveLimits = minimumReceiveLimit...16_777_216
    static let minimumReceiveLimit = 16_384

    /// The send frame length after a handshake: the peer's advertised value, clamped to our
    /// own maximum and never below 16 KiB (every receiver accepts 16 KiB); 16 KiB when the
    /// peer advertised nothing (grpc-go sends 0).
    public static func sendFrameLength(
        peerMaxFrameSize: UInt32, localMaxFrameSize: UInt32 = advertisedMaxFrameSize
    ) -> Int {
        guard peerMaxFrameSize > 0 else { return defaultFrameLength }
        let agreed = max(Int(min(peerMaxFrameSize, localMaxFrameSize)), defaultFrameLength)
        return min(agreed, maximumSendFrameLength)
    }
}
