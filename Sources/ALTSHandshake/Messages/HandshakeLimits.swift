/// Bounds on everything a peer can make us hold; each is checked before allocating.
enum HandshakeLimits {
    static let headerSize = 4
    /// A whole message, header included, is at most 64 KiB.
    static let maxMessageSize = 65_536
    static let maxBodySize = maxMessageSize - headerSize
    static let maxListCount = 16
    static let maxCertificates = 4
    static let maxCertificateSize = 16_384
    static let maxSignatureSize = 128
    static let version: UInt16 = 1
    static let randomSize = 32
    static let shareSize = 32
    static let finishedSize = 32
    static let tagSize = 16
}
