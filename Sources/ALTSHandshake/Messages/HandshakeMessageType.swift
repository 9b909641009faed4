enum HandshakeMessageType: UInt8, CustomStringConvertible {
    case clientInit = 1
    case serverInit = 2
    case serverAuth = 3
    case clientAuth = 4
    case alert = 21

    var description: String {
        switch self {
        case .clientInit: return "ClientInit"
        case .serverInit: return "ServerInit"
        case .serverAuth: return "ServerAuth"
        case .clientAuth: return "ClientAuth"
        case .alert: return "Alert"
        }
    }
}

/// One framed message: `type u8 ‖ length u24 ‖ body`. `bytes` is the whole framed message,
/// which is what the transcript covers.
struct HandshakeMessage {
    let typeByte: UInt8
    let bytes: [UInt8]

    var body: ArraySlice<UInt8> { bytes[HandshakeLimits.headerSize...] }
    var header: ArraySlice<UInt8> { bytes[..<HandshakeLimits.headerSize] }

    static func frame(_ type: HandshakeMessageType, body: [UInt8]) -> [UInt8] {
        precondition(body.count <= HandshakeLimits.maxBodySize)
        return header(type, bodyLength: body.count) + body
    }

    static func header(_ type: HandshakeMessageType, bodyLength: Int) -> [UInt8] {
        [type.rawValue, UInt8(truncatingIfNeeded: bodyLength >> 16), UInt8(truncatingIfNeeded: bodyLength >> 8), UInt8(truncatingIfNeeded: bodyLength)]
    }
}

/// Collects input until whole messages are in. The length is checked from the header alone,
/// so a peer cannot make us buffer more than one 64 KiB message.
struct HandshakeMessageBuffer {
    private(set) var pending: [UInt8] = []
    private var start = 0

    var bufferedCount: Int { pending.count - start }

    mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start == pending.count {
            pending.removeAll(keepingCapacity: true)
            start = 0
        }
        pending.append(contentsOf: bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    mutating func next() throws(ALTSHandshakeError) -> HandshakeMessage? {
        let available = pending.count - start
        guard available >= HandshakeLimits.headerSize else { return nil }
        let length = Int(pending[start + 1]) << 16 | Int(pending[start + 2]) << 8 | Int(pending[start + 3])
        if length > HandshakeLimits.maxBodySize {
            throw ALTSHandshakeError(.messageTooLarge(length: length + HandshakeLimits.headerSize, limit: HandshakeLimits.maxMessageSize))
        }
        let total = HandshakeLimits.headerSize + length
        guard available >= total else { return nil }
        let message = HandshakeMessage(typeByte: pending[start], bytes: Array(pending[start..<(start + total)]))
        start += total
        return message
    }
}
