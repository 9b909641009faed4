import ALTSRecord
import FuzzSupport

// The record frame decoder, fed what a hostile peer can send after a handshake.
//
// Input: MODE ‖ PIECE ‖ PAYLOAD. MODE bit 0 picks ALTSRP_GCM_AES128 or _REKEY, bit 1 the
// reader's role. PIECE is how many bytes each read gets (0: all at once).
// - MODE bit 2 clear: PAYLOAD is the wire bytes themselves. Almost nothing authenticates, so
//   this explores framing: lengths, types, partial frames, the receive limit, poisoning.
// - MODE bit 2 set: PAYLOAD is plaintext that the peer seals, in writes split at the bytes
//   that follow MODE and PIECE; the reader must return exactly that plaintext whatever the
//   piece size. This reaches the decrypt path, which random bytes cannot.

private let keyData = [UInt8](0..<44)

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    FuzzSeeds.writeIfRequested(recordSeeds)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzRecordFrames(data.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(bitPattern: 1)!, count)
}

@_cdecl("FuzzRecordFrames_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv) { fuzzerTestOneInput($0, $1) }
}

private func fuzzRecordFrames(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(data, count)
    let mode = input.byte()
    let piece = Int(input.byte())
    let recordProtocol: ALTSRecordProtocol = mode & 1 == 0 ? .aes128GCM : .aes128GCMRekey
    let role: ALTSRole = mode & 2 == 0 ? .server : .client
    if mode & 4 == 0 {
        decodeHostileBytes(input.rest(), recordProtocol: recordProtocol, role: role, piece: piece)
    } else {
        let writeSize = Int(input.uint16())
        roundTrip(input.rest(), recordProtocol: recordProtocol, role: role, piece: piece, writeSize: writeSize)
    }
    return 0
}

private func makeProtector(_ recordProtocol: ALTSRecordProtocol, _ role: ALTSRole) -> ALTSRecordProtector {
    do {
        return try ALTSRecordProtector(recordProtocol: recordProtocol, role: role, keyData: keyData)
    } catch {
        fatalError("protector set-up failed: \(error)")
    }
}

private func decodeHostileBytes(_ wire: [UInt8], recordProtocol: ALTSRecordProtocol, role: ALTSRole, piece: Int) {
    var reader = ALTSRecordReader(protector: makeProtector(recordProtocol, role))
    var failed = false
    for chunk in wire.pieces(of: piece) {
        do {
            _ = try reader.read(chunk)
        } catch {
            failed = true
            break
        }
        // A partial frame is held only while it can still become a frame within the limit.
        fuzzInvariant(reader.bufferedByteCount <= ALTSFrameSizing.defaultReceiveLimit + 4,
                      "\(reader.bufferedByteCount) bytes buffered, over the receive limit")
    }
    if failed {
        // After any error the protector is poisoned: nothing more is ever decoded.
        do {
            _ = try reader.read([0x14, 0, 0, 0, 6, 0, 0, 0] + [UInt8](repeating: 0, count: 16))
            fuzzInvariant(false, "a failed reader accepted more input")
        } catch {
            guard case .poisoned = error.kind else {
                return fuzzInvariant(false, "a failed reader reported \(error) instead of poisoned")
            }
        }
    } else {
        _ = try? reader.finish()
    }
}

private func roundTrip(_ plaintext: [UInt8], recordProtocol: ALTSRecordProtocol, role: ALTSRole, piece: Int, writeSize: Int) {
    let peerRole: ALTSRole = role == .client ? .server : .client
    let sender = makeProtector(recordProtocol, peerRole)
    var wire: [UInt8] = []
    for write in plaintext.pieces(of: writeSize) {
        do {
            try Array(write).withUnsafeBytes { raw in try sender.protect(raw, into: &wire) }
        } catch {
            fuzzInvariant(false, "sealing \(write.count) bytes failed: \(error)")
        }
    }
    var reader = ALTSRecordReader(protector: makeProtector(recordProtocol, role))
    var opened: [UInt8] = []
    for chunk in wire.pieces(of: piece) {
        do {
            opened += try reader.read(chunk)
        } catch {
            fuzzInvariant(false, "opening our own frames failed: \(error)")
        }
    }
    fuzzInvariant(reader.bufferedByteCount == 0, "\(reader.bufferedByteCount) bytes left over after whole frames")
    fuzzInvariant(opened == plaintext, "round trip changed \(plaintext.count) bytes into \(opened.count)")
}

/// Frames sealed by a real peer (so mutations start from valid structure), plus the
/// boundary headers of FACTS.md §3.
private func recordSeeds() throws -> [(name: String, bytes: [UInt8])] {
    var seeds: [(name: String, bytes: [UInt8])] = []
    for (protocolBit, recordProtocol) in [(UInt8(0), ALTSRecordProtocol.aes128GCM), (1, .aes128GCMRekey)] {
        let sender = try ALTSRecordProtector(recordProtocol: recordProtocol, role: .client, keyData: keyData)
        var wire: [UInt8] = []
        for message in ["hello", "", String(repeating: "x", count: 300)] {
            try Array(message.utf8).withUnsafeBytes { raw in try sender.protect(raw, into: &wire) }
        }
        let name = recordProtocol == .aes128GCM ? "gcm" : "rekey"
        seeds.append(("frames-\(name)", [protocolBit, 0] + wire))
        seeds.append(("frames-\(name)-split7", [protocolBit, 7] + wire))
        seeds.append(("roundtrip-\(name)", [protocolBit | 4, 5, 100, 0] + Array("hello over ALTS, in pieces".utf8)))
    }
    seeds.append(("length-ffffffff", [0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 6, 0, 0, 0]))
    seeds.append(("length-19", [0, 0, 19, 0, 0, 0, 6, 0, 0, 0] + [UInt8](repeating: 0, count: 15)))
    seeds.append(("type-7", [0, 0, 20, 0, 0, 0, 7, 0, 0, 0] + [UInt8](repeating: 0, count: 16)))
    return seeds
}
