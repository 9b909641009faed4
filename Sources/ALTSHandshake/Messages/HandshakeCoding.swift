/// Big-endian encoding helpers for handshake bodies.
struct HandshakeWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)] }
    mutating func u32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
    mutating func raw(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }
    mutating func string8(_ value: String) {
        u8(UInt8(value.utf8.count))
        raw(value.utf8)
    }
    mutating func list8(_ values: [String]) {
        u8(UInt8(values.count))
        for value in values { string8(value) }
    }
    mutating func bytes16(_ value: [UInt8]) {
        u16(UInt16(value.count))
        raw(value)
    }
    mutating func versions(_ versions: RPCProtocolVersions) {
        u32(versions.max.major)
        u32(versions.max.minor)
        u32(versions.min.major)
        u32(versions.min.minor)
    }
}

/// Reads a body field by field; every failure names the message and the field.
struct HandshakeReader {
    private let bytes: ArraySlice<UInt8>
    private var offset: Int
    private let message: String

    init(_ bytes: ArraySlice<UInt8>, message: String) {
        self.bytes = bytes
        self.offset = bytes.startIndex
        self.message = message
    }

    private func fail(_ field: String, _ problem: String = "truncated") -> ALTSHandshakeError {
        ALTSHandshakeError(.malformedMessage("\(message) \(field) \(problem)"))
    }

    mutating func take(_ count: Int, _ field: String) throws(ALTSHandshakeError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.endIndex - offset >= count else { throw fail(field) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u8(_ field: String) throws(ALTSHandshakeError) -> UInt8 {
        try take(1, field).first!
    }

    mutating func u16(_ field: String) throws(ALTSHandshakeError) -> UInt16 {
        let b = try take(2, field)
        return UInt16(b[b.startIndex]) << 8 | UInt16(b[b.startIndex + 1])
    }

    mutating func u32(_ field: String) throws(ALTSHandshakeError) -> UInt32 {
        let b = try take(4, field)
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string8(_ field: String) throws(ALTSHandshakeError) -> String {
        let length = Int(try u8(field))
        guard length > 0 else { throw fail(field, "is empty") }
        guard let value = String(validating: try take(length, field), as: UTF8.self) else { throw fail(field, "is not UTF-8") }
        return value
    }

    mutating func list8(_ field: String) throws(ALTSHandshakeError) -> [String] {
        let count = Int(try u8(field))
        guard (1...HandshakeLimits.maxListCount).contains(count) else {
            throw fail(field, "has \(count) entries (1...\(HandshakeLimits.maxListCount) allowed)")
        }
        var values: [String] = []
        for _ in 0..<count { values.append(try string8(field)) }
        return values
    }

    mutating func bytes16(_ field: String, max: Int) throws(ALTSHandshakeError) -> [UInt8] {
        let length = Int(try u16(field))
        guard length > 0, length <= max else { throw fail(field, "length \(length) is outside 1...\(max)") }
        return Array(try take(length, field))
    }

    mutating func versions(_ field: String) throws(ALTSHandshakeError) -> RPCProtocolVersions {
        let maxMajor = try u32(field), maxMinor = try u32(field), minMajor = try u32(field), minMinor = try u32(field)
        return RPCProtocolVersions(
            max: .init(major: maxMajor, minor: maxMinor), min: .init(major: minMajor, minor: minMinor))
    }

    var position: Int { offset }

    func expectEnd() throws(ALTSHandshakeError) {
        guard offset == bytes.endIndex else { throw fail("body", "has \(bytes.endIndex - offset) trailing bytes") }
    }
}
