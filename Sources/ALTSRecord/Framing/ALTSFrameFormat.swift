/// The ALTS record frame (FACTS §1.1):
///
///     LE32 length ‖ LE32 type (6) ‖ ciphertext ‖ 16-byte tag
///
/// `length` counts everything after itself: 4 + ciphertext + 16. The header is not
/// authenticated, so it is checked strictly before any decryption.
public enum ALTSFrameFormat {
    public static let lengthFieldSize = 4
    public static let typeFieldSize = 4
    public static let headerSize = lengthFieldSize + typeFieldSize
    public static let tagSize = 16
    /// Bytes a frame adds to its plaintext on the wire.
    public static let overhead = headerSize + tagSize
    public static let recordMessageType: UInt32 = 6
    /// The smallest legal length field: type and tag around an empty ciphertext.
    public static let minimumLength = typeFieldSize + tagSize

    /// What the first bytes of a buffer say about the frame that starts there.
    public enum HeaderScan: Equatable {
        /// Too few bytes to judge; nothing is wrong yet.
        case needMoreBytes
        /// A valid header; the whole frame takes `frameSize` bytes.
        case frame(frameSize: Int)
    }

    /// Validates as much of a header as `bytes` holds: the length as soon as 4 bytes are
    /// in (so an oversized frame is refused before it is buffered), the type once 8 are.
    @inline(__always)
    public static func scanHeader(
        _ bytes: UnsafeRawBufferPointer, receiveLimit: Int
    ) throws(ALTSRecordError) -> HeaderScan {
        guard bytes.count >= lengthFieldSize else { return .needMoreBytes }
        let length = UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self))
        if Int(length) > receiveLimit {
            throw ALTSRecordError(.frameTooLarge(length: length, limit: receiveLimit))
        }
        if Int(length) < minimumLength {
            throw ALTSRecordError(.frameTooShort(length: length))
        }
        guard bytes.count >= headerSize else { return .needMoreBytes }
        let type = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: lengthFieldSize, as: UInt32.self))
        if type != recordMessageType {
            throw ALTSRecordError(.badMessageType(type))
        }
        return .frame(frameSize: lengthFieldSize + Int(length))
    }

    /// Writes the 8-byte header for a frame carrying `plaintextCount` bytes.
    @inline(__always)
    static func writeHeader(plaintextCount: Int, to output: UnsafeMutableRawPointer) {
        output.storeBytes(of: UInt32(typeFieldSize + plaintextCount + tagSize).littleEndian, as: UInt32.self)
        output.storeBytes(of: recordMessageType.littleEndian, toByteOffset: lengthFieldSize, as: UInt32.self)
    }
}
