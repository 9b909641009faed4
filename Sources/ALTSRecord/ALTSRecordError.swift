/// Every way the record layer can refuse input or fail. One typed error, as in swift-nio-ssh:
/// the kind says what failed, the description says it in words. No key material is ever
/// part of an error.
public struct ALTSRecordError: Error, Hashable, Sendable, CustomStringConvertible {
    public indirect enum Kind: Hashable, Sendable {
        /// The handshake produced less key material than the record protocol needs.
        case keyTooShort(recordProtocol: String, required: Int, actual: Int)
        /// The negotiated record protocol is not one this implementation speaks.
        case unsupportedRecordProtocol(String)
        /// A configured frame size is outside what the protocol allows.
        case invalidFrameLength(name: String, value: Int, allowed: ClosedRange<Int>)
        /// A frame's length field is below the 20 bytes that type and tag alone take.
        case frameTooShort(length: UInt32)
        /// A frame's length field is above the receive limit; refused before buffering it.
        case frameTooLarge(length: UInt32, limit: Int)
        /// A frame's 32-bit type field is not 6.
        case badMessageType(UInt32)
        /// The GCM tag did not verify: tampering, replay, reordering or a reflected frame.
        case authenticationFailed
        /// The record counter for this direction has no values left.
        case counterExhausted
        /// The stream ended in the middle of a frame.
        case truncatedFrame(bufferedBytes: Int)
        /// An earlier error made this protector unusable.
        case poisoned(by: Kind)
        /// OpenSSL reported an internal failure.
        case cryptoFailure(String)
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String { Self.describe(kind) }

    private static func describe(_ kind: Kind) -> String {
        switch kind {
        case .keyTooShort(let name, let required, let actual):
            return "\(name) needs \(required) bytes of key data, got \(actual)"
        case .unsupportedRecordProtocol(let name):
            return "unsupported record protocol '\(name)'"
        case .invalidFrameLength(let name, let value, let allowed):
            return "\(name) \(value) is outside \(allowed.lowerBound)...\(allowed.upperBound)"
        case .frameTooShort(let length):
            return "frame length \(length) is shorter than the 20 bytes of type and tag"
        case .frameTooLarge(let length, let limit):
            return "frame length \(length) is larger than the limit \(limit)"
        case .badMessageType(let type):
            return "frame message type 0x\(String(type, radix: 16)) is not 0x6"
        case .authenticationFailed:
            return "frame authentication failed (tampered, replayed, reordered or reflected)"
        case .counterExhausted:
            return "record counter exhausted; the connection must be re-established"
        case .truncatedFrame(let buffered):
            return "stream ended inside a frame (\(buffered) bytes buffered)"
        case .poisoned(let original):
            return "record protector unusable after an earlier error: \(describe(original))"
        case .cryptoFailure(let what):
            return "OpenSSL failure: \(what)"
        }
    }
}
