/// The one-byte codes of the Alert message (docs/PROTOCOL.md). Alerts carry no text: they are
/// unauthenticated, and details would tell an unauthenticated peer why it was refused.
public enum ALTSHandshakeAlert: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case decodeError = 1
    case unexpectedMessage = 2
    case protocolVersion = 3
    case handshakeFailure = 4
    case badCertificate = 5
    case unknownIssuer = 6
    case certificateExpired = 7
    case accessDenied = 8
    case decryptError = 9
    case internalError = 10

    /// The framed Alert message as it travels: type 21, length 1, the code.
    public var wireMessage: [UInt8] { [21, 0, 0, 1, rawValue] }

    public var description: String {
        switch self {
        case .decodeError: return "decode_error"
        case .unexpectedMessage: return "unexpected_message"
        case .protocolVersion: return "protocol_version"
        case .handshakeFailure: return "handshake_failure"
        case .badCertificate: return "bad_certificate"
        case .unknownIssuer: return "unknown_issuer"
        case .certificateExpired: return "certificate_expired"
        case .accessDenied: return "access_denied"
        case .decryptError: return "decrypt_error"
        case .internalError: return "internal_error"
        }
    }
}
