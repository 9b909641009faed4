import Foundation
@testable import ALTSRecord

enum Vectors {
    static func load(_ name: String) throws -> [String: Any] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Vectors") else {
            throw VectorError.missing(name)
        }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dictionary = object as? [String: Any] else { throw VectorError.malformed(name) }
        return dictionary
    }

    static func list(_ name: String, _ key: String = "vectors") throws -> [[String: Any]] {
        guard let list = try load(name)[key] as? [[String: Any]] else { throw VectorError.malformed(name) }
        return list
    }
}

enum VectorError: Error {
    case missing(String)
    case malformed(String)
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String { self[key] as! String }
    func hex(_ key: String) -> [UInt8] { [UInt8](hex: self[key] as! String) }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        precondition(hex.count % 2 == 0, "odd hex length")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Deterministic randomness so a failing chunking or tampering case can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, using rng: inout SplitMix64) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

extension ALTSRole {
    var peer: ALTSRole { self == .client ? .server : .client }
}

/// A protector whose counters start at `counter` (in the direction that matters).
func makeProtector(
    _ recordProtocol: ALTSRecordProtocol, role: ALTSRole, key: [UInt8],
    outbound: [UInt8]? = nil, inbound: [UInt8]? = nil, maxSendFrameLength: Int = 16_384
) throws -> ALTSRecordProtector {
    let overflow = recordProtocol.counterOverflowLength
    return try ALTSRecordProtector(
        recordProtocol: recordProtocol, role: role, keyData: key,
        maxSendFrameLength: maxSendFrameLength, receiveLimit: ALTSFrameSizing.defaultReceiveLimit,
        outboundCounter: outbound.map { ALTSCounter(bytes: $0, overflowLength: overflow) }
            ?? .outbound(role: role, overflowLength: overflow),
        inboundCounter: inbound.map { ALTSCounter(bytes: $0, overflowLength: overflow) }
            ?? .inbound(role: role, overflowLength: overflow))
}

/// Opens a whole stream in one call and insists nothing is left over.
func openAll(_ protector: ALTSRecordProtector, _ bytes: [UInt8]) throws(ALTSRecordError) -> [UInt8] {
    var reader = ALTSRecordReader(protector: protector)
    let plaintext = try reader.read(bytes)
    try reader.finish()
    return plaintext
}
