import ALTSHandshake
import ALTSIdentity
import ALTSRecord
import FuzzSupport

// The handshake message parser and state machine, in both roles.
//
// Input: MODE ‖ PIECE ‖ PAYLOAD.
// - MODE bit 1 clear: the fuzzer is the peer. MODE bit 0 picks our role (0 server: PAYLOAD
//   is what a client sends; 1 client: we send ClientInit, PAYLOAD is the server's answer),
//   fed in PIECE-byte reads. Without the peer's private key no input may complete the
//   handshake: a completion is an authentication bypass.
// - MODE bit 1 set: the fuzzer is on the path between a real client and a real server.
//   PAYLOAD is a list of (direction, offset LE16, xor) edits applied to the bytes in flight.
//   A side may complete only if no byte in either direction was changed before it did (the
//   transcript both sign covers every byte), and when both complete they hold the same keys
//   and each other's true identities.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    FuzzSeeds.writeIfRequested(handshakeSeeds)
    _ = FuzzCredentials.shared
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzHandshake(data.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(bitPattern: 1)!, count)
}

@_cdecl("FuzzHandshake_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv) { fuzzerTestOneInput($0, $1) }
}

private func fuzzHandshake(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(data, count)
    let mode = input.byte()
    let piece = Int(input.byte())
    if mode & 2 == 0 {
        actAsPeer(role: mode & 1 == 0 ? .server : .client, piece: piece, payload: input.rest())
    } else {
        tamperInFlight(edits: Edits(&input))
    }
    return 0
}

private func makeHandshaker(_ role: ALTSRole) -> ALTSHandshaker {
    let store = role == .client ? FuzzCredentials.shared.client : FuzzCredentials.shared.server
    do {
        return try ALTSHandshaker(role: role, credential: store.current)
    } catch {
        fatalError("handshaker set-up failed: \(error)")
    }
}

private func actAsPeer(role: ALTSRole, piece: Int, payload: [UInt8]) {
    let handshaker = makeHandshaker(role)
    _ = handshaker.start()
    for chunk in payload.pieces(of: piece) {
        let step = handshaker.process(chunk)
        fuzzInvariant(step.bytesConsumed <= chunk.count, "consumed \(step.bytesConsumed) of \(chunk.count) bytes")
        switch step.outcome {
        case .inProgress:
            continue
        case .completed(let result):
            fuzzInvariant(false, "the \(role) completed a handshake with fuzzer bytes (peer \(result.peer.serviceAccount))")
        case .failed:
            fuzzInvariant(handshaker.isDone, "a failed handshake is not done")
            guard case .failed = handshaker.process([0]).outcome else {
                return fuzzInvariant(false, "a failed handshake accepted more bytes")
            }
            return
        }
    }
}

/// Byte edits an on-path attacker makes, by direction and offset in that direction's stream.
private struct Edits {
    var clientToServer: [Int: UInt8] = [:]
    var serverToClient: [Int: UInt8] = [:]

    init(_ input: inout FuzzInput) {
        while input.remainingCount >= 4 {
            let direction = input.byte()
            let offset = Int(input.uint16())
            let mask = input.byte()
            if direction & 1 == 0 {
                clientToServer[offset, default: 0] ^= mask
            } else {
                serverToClient[offset, default: 0] ^= mask
            }
        }
    }
}

/// One direction of the path: applies its edits at absolute stream offsets and remembers
/// whether any delivered byte was changed.
private struct PathDirection {
    let edits: [Int: UInt8]
    var delivered = 0
    var tampered = false

    mutating func carry(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for index in out.indices {
            if let mask = edits[delivered + index], mask != 0 {
                out[index] ^= mask
                tampered = true
            }
        }
        delivered += out.count
        return out
    }
}

private func tamperInFlight(edits: Edits) {
    let client = makeHandshaker(.client)
    let server = makeHandshaker(.server)
    var toServer = PathDirection(edits: edits.clientToServer)
    var toClient = PathDirection(edits: edits.serverToClient)
    var clientResult: ALTSHandshakeResult?
    var serverResult: ALTSHandshakeResult?

    var pending = toServer.carry(client.start().outBytes)
    var serverTurn = true
    // A handshake is three flights; two more rounds let trailing alerts through.
    for _ in 0..<5 where !pending.isEmpty {
        let receiver = serverTurn ? server : client
        let step = receiver.process(pending)
        if case .completed(let result) = step.outcome {
            // Only what was changed before this side completed counts against it; the
            // client's final flight is in flight after the client has finished.
            let tamperedSoFar = toServer.tampered || toClient.tampered
            fuzzInvariant(!tamperedSoFar, "the \(serverTurn ? "server" : "client") completed a tampered handshake")
            if serverTurn { serverResult = result } else { clientResult = result }
        }
        pending = serverTurn ? toClient.carry(step.outBytes) : toServer.carry(step.outBytes)
        serverTurn.toggle()
    }

    if let clientResult {
        fuzzInvariant(clientResult.peer.serviceAccount == FuzzCredentials.shared.server.current.serviceAccount.email,
                      "the client authenticated \(clientResult.peer.serviceAccount)")
    }
    if let clientResult, let serverResult {
        fuzzInvariant(clientResult.keyData == serverResult.keyData, "the two ends derived different keys")
        fuzzInvariant(serverResult.peer.serviceAccount == FuzzCredentials.shared.client.current.serviceAccount.email,
                      "the server authenticated \(serverResult.peer.serviceAccount)")
    }
}

/// Each role's inbound flights from a real in-memory handshake, and on-path edit lists that
/// touch each flight.
private func handshakeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    let client = makeHandshaker(.client)
    let server = makeHandshaker(.server)
    let clientInit = client.start().outBytes
    let serverFlight = server.process(clientInit).outBytes
    let clientFinish = client.process(serverFlight).outBytes
    return [
        ("server-clientinit", [0, 0] + clientInit),
        ("server-clientinit-split9", [0, 9] + clientInit),
        ("server-whole-client-side", [0, 0] + clientInit + clientFinish),
        ("client-serverflight", [1, 0] + serverFlight),
        ("client-serverflight-split13", [1, 13] + serverFlight),
        ("path-clean", [2, 0]),
        ("path-edit-clientinit", [2, 0, 0, 10, 0, 0x01]),
        ("path-edit-serverflight", [2, 0, 1, 40, 0, 0x80]),
        ("path-edit-clientfinish", [2, 0, 0, UInt8(truncatingIfNeeded: clientInit.count + 5), UInt8(truncatingIfNeeded: (clientInit.count + 5) >> 8), 0xFF]),
    ]
}
