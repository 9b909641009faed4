import ALTSHandshake
import ALTSHandshakerProto
import ALTSHandshakerService
import ALTSIdentity
import FuzzSupport
import Foundation
import SwiftProtobuf

// One DoHandshake stream of the grpc.gcp.HandshakerService, as a compromised or confused
// application would drive it: a sequence of HandshakerReq messages.
//
// Input: records of LENGTH (LE16) ‖ BYTES, each BYTES a serialized HandshakerReq (records
// that do not decode are skipped, as gRPC would refuse them before the session sees them).
// Checked for every request: the response carries a status; bytes_consumed never exceeds the
// input it answers by more than the one byte that tells grpc-go to give up; once a response
// says done, every later request is refused; and no sequence yields a handshake result, which
// would need the peer's private key.

private let identities = [FuzzCredentials.shared.server, FuzzCredentials.shared.client]

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    FuzzSeeds.writeIfRequested(serviceSeeds)
    _ = identities
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzHandshakerService(data.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(bitPattern: 1)!, count)
}

@_cdecl("FuzzHandshakerService_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv) { fuzzerTestOneInput($0, $1) }
}

private func fuzzHandshakerService(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(data, count)
    let session = HandshakerSession(identities: identities)
    var ended = false
    while input.remainingCount >= 2 {
        let record = input.take(Int(input.uint16()))
        guard let request = try? Grpc_Gcp_HandshakerReq(serializedBytes: record) else { continue }
        let (response, done) = session.handle(request)
        fuzzInvariant(response.hasStatus, "a response without a status")
        fuzzInvariant(!response.hasResult, "a handshake result from fuzzer bytes")
        let inputCount: Int
        switch request.reqOneof {
        case .next(let next)?: inputCount = next.inBytes.count
        case .serverStart(let start)?: inputCount = start.inBytes.count
        default: inputCount = 0
        }
        fuzzInvariant(Int(response.bytesConsumed) <= inputCount + 1,
                      "bytes_consumed \(response.bytesConsumed) for \(inputCount) bytes of input")
        if ended {
            fuzzInvariant(done && response.status.code != 0, "a request after the end was not refused")
        }
        if done {
            fuzzInvariant(response.status.code != 0, "a stream ended with OK status and no result")
        }
        ended = ended || done
    }
    return 0
}

private func record(_ request: Grpc_Gcp_HandshakerReq) throws -> [UInt8] {
    let bytes: [UInt8] = try request.serializedBytes()
    return [UInt8(bytes.count & 0xFF), UInt8(bytes.count >> 8)] + bytes
}

/// What grpc-go, grpcio and Envoy send: client_start then next; server_start with the
/// client's first flight; and the misuse the service must refuse.
private func serviceSeeds() throws -> [(name: String, bytes: [UInt8])] {
    var clientStart = Grpc_Gcp_HandshakerReq()
    clientStart.clientStart.handshakeSecurityProtocol = .alts
    clientStart.clientStart.applicationProtocols = ["grpc"]
    clientStart.clientStart.recordProtocols = ["ALTSRP_GCM_AES128_REKEY"]
    var target = Grpc_Gcp_Identity()
    target.serviceAccount = FuzzCredentials.shared.server.current.serviceAccount.email
    clientStart.clientStart.targetIdentities = [target]
    clientStart.clientStart.maxFrameSize = 1_048_576
    clientStart.clientStart.rpcVersions.maxRpcVersion.major = 2
    clientStart.clientStart.rpcVersions.minRpcVersion.major = 2

    // A real ClientInit and server flight, so server_start and next carry parseable bytes.
    let client = try ALTSHandshaker(role: .client, credential: FuzzCredentials.shared.client.current)
    let server = try ALTSHandshaker(role: .server, credential: FuzzCredentials.shared.server.current)
    let clientInit = client.start().outBytes
    let serverFlight = server.process(clientInit).outBytes

    var serverStart = Grpc_Gcp_HandshakerReq()
    serverStart.serverStart.applicationProtocols = ["grpc"]
    var parameters = Grpc_Gcp_ServerHandshakeParameters()
    parameters.recordProtocols = ["ALTSRP_GCM_AES128_REKEY"]
    serverStart.serverStart.handshakeParameters[2] = parameters
    serverStart.serverStart.inBytes = Data(clientInit)
    serverStart.serverStart.maxFrameSize = 1_048_576

    var next = Grpc_Gcp_HandshakerReq()
    next.next.inBytes = Data(serverFlight)
    var emptyNext = Grpc_Gcp_HandshakerReq()
    emptyNext.next.inBytes = Data()

    return [
        ("client-start-next", try record(clientStart) + record(next)),
        ("server-start", try record(serverStart)),
        ("server-start-then-next", try record(serverStart) + record(emptyNext)),
        ("next-first", try record(next)),
        ("client-start-twice", try record(clientStart) + record(clientStart)),
        ("empty-request", try record(Grpc_Gcp_HandshakerReq())),
    ]
}
