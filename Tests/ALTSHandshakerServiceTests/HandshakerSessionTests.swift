import ALTSHandshake
import ALTSHandshakerProto
import ALTSHandshakerService
import ALTSIdentity
import ALTSTestSupport
import Foundation
import Testing

/// Builds requests the way gRPC C-core does (FACTS §9.2).
enum Requests {
    static func clientStart(targets: [String] = [], localIdentity: String? = nil, recordProtocols: [String] = ["ALTSRP_GCM_AES128_REKEY"], maxFrameSize: UInt32 = 1_048_576) -> Grpc_Gcp_HandshakerReq {
        var start = Grpc_Gcp_StartClientHandshakeReq()
        start.handshakeSecurityProtocol = .alts
        start.applicationProtocols = ["grpc"]
        start.recordProtocols = recordProtocols
        start.targetIdentities = targets.map { account in var identity = Grpc_Gcp_Identity(); identity.serviceAccount = account; return identity }
        if let localIdentity { start.localIdentity.serviceAccount = localIdentity }
        start.rpcVersions = versions
        start.maxFrameSize = maxFrameSize
        start.targetName = "alts-server:50051"
        var request = Grpc_Gcp_HandshakerReq()
        request.clientStart = start
        return request
    }

    static func serverStart(_ inBytes: Data, maxFrameSize: UInt32 = 1_048_576, withALTSParameters: Bool = true) -> Grpc_Gcp_HandshakerReq {
        var start = Grpc_Gcp_StartServerHandshakeReq()
        start.applicationProtocols = ["grpc"]
        if withALTSParameters {
            var parameters = Grpc_Gcp_ServerHandshakeParameters()
            parameters.recordProtocols = ["ALTSRP_GCM_AES128_REKEY"]
            start.handshakeParameters = [2: parameters]
        }
        start.inBytes = inBytes
        start.rpcVersions = versions
        start.maxFrameSize = maxFrameSize
        var request = Grpc_Gcp_HandshakerReq()
        request.serverStart = start
        return request
    }

    static func next(_ inBytes: Data) -> Grpc_Gcp_HandshakerReq {
        var request = Grpc_Gcp_HandshakerReq()
        request.next.inBytes = inBytes
        return request
    }

    static var versions: Grpc_Gcp_RpcProtocolVersions {
        var versions = Grpc_Gcp_RpcProtocolVersions()
        versions.maxRpcVersion.major = 2
        versions.maxRpcVersion.minor = 1
        versions.minRpcVersion.major = 2
        versions.minRpcVersion.minor = 1
        return versions
    }
}

@Suite("HandshakerSession: grpc.gcp.HandshakerService semantics")
struct HandshakerSessionTests {
    struct Accounts {
        let credentials: TestCredentials
        let client: CredentialStore
        let server: CredentialStore

        init() throws {
            credentials = try TestCredentials()
            client = try CredentialStore(directory: try credentials.issue("alts-client", project: "alpha"))
            server = try CredentialStore(directory: try credentials.issue("alts-server", project: "alpha"))
        }
    }

    @Test("the full exchange as gRPC drives it: statuses, exact bytes_consumed, results on both sides")
    func fullExchange() throws {
        let accounts = try Accounts()
        let client = HandshakerSession(identities: [accounts.client])
        let server = HandshakerSession(identities: [accounts.server])

        let (first, firstDone) = client.handle(Requests.clientStart(targets: ["alts-server@alpha.iam.gserviceaccount.com"], maxFrameSize: 65_536))
        #expect(!firstDone)
        #expect(first.status.code == 0 && first.hasStatus)
        #expect(first.bytesConsumed == 0)
        #expect(first.outFrames.first == 1)  // ClientInit

        let (second, secondDone) = server.handle(Requests.serverStart(first.outFrames, maxFrameSize: 1_048_576))
        #expect(!secondDone && second.status.code == 0)
        #expect(Int(second.bytesConsumed) == first.outFrames.count)

        let (third, thirdDone) = client.handle(Requests.next(second.outFrames))
        #expect(thirdDone && third.status.code == 0)
        #expect(third.hasResult)
        #expect(Int(third.bytesConsumed) == second.outFrames.count)

        let early = Data("first protected records".utf8)
        let (fourth, fourthDone) = server.handle(Requests.next(third.outFrames + early))
        #expect(fourthDone && fourth.status.code == 0 && fourth.hasResult)
        #expect(Int(fourth.bytesConsumed) == third.outFrames.count)
        #expect(fourth.outFrames.isEmpty)

        let clientResult = third.result, serverResult = fourth.result
        #expect(clientResult.keyData.count == 44)
        #expect(clientResult.keyData == serverResult.keyData)
        #expect(clientResult.recordProtocol == "ALTSRP_GCM_AES128_REKEY" && serverResult.recordProtocol == "ALTSRP_GCM_AES128_REKEY")
        #expect(clientResult.applicationProtocol == "grpc")
        #expect(clientResult.peerIdentity.serviceAccount == "alts-server@alpha.iam.gserviceaccount.com")
        #expect(clientResult.localIdentity.serviceAccount == "alts-client@alpha.iam.gserviceaccount.com")
        #expect(serverResult.peerIdentity.serviceAccount == "alts-client@alpha.iam.gserviceaccount.com")
        #expect(serverResult.peerIdentity.attributes["project"] == "alpha")
        #expect(serverResult.localIdentity.serviceAccount == "alts-server@alpha.iam.gserviceaccount.com")
        #expect(clientResult.maxFrameSize == 1_048_576)  // the server's
        #expect(serverResult.maxFrameSize == 65_536)  // the client's
        #expect(serverResult.peerRpcVersions.maxRpcVersion.major == 2 && serverResult.peerRpcVersions.minRpcVersion.minor == 1)
    }

    @Test("a grpc-go peer advertises no max_frame_size: the result says 0")
    func noFrameSize() throws {
        let accounts = try Accounts()
        let client = HandshakerSession(identities: [accounts.client])
        let server = HandshakerSession(identities: [accounts.server])
        let first = client.handle(Requests.clientStart(maxFrameSize: 0)).response
        let second = server.handle(Requests.serverStart(first.outFrames, maxFrameSize: 0)).response
        let third = client.handle(Requests.next(second.outFrames)).response
        let fourth = server.handle(Requests.next(third.outFrames)).response
        #expect(third.result.maxFrameSize == 0 && fourth.result.maxFrameSize == 0)
    }

    @Test("a target mismatch: non-OK status naming peer and targets, plus an alert for the peer")
    func targetMismatch() throws {
        let accounts = try Accounts()
        let client = HandshakerSession(identities: [accounts.client])
        let server = HandshakerSession(identities: [accounts.server])
        let first = client.handle(Requests.clientStart(targets: ["billing@alpha.iam.gserviceaccount.com"])).response
        let second = server.handle(Requests.serverStart(first.outFrames)).response
        let (third, done) = client.handle(Requests.next(second.outFrames))
        #expect(done && !third.hasResult)
        #expect(third.status.code == 7)
        #expect(third.status.details == "peer service account alts-server@alpha.iam.gserviceaccount.com is not one of the target service accounts [billing@alpha.iam.gserviceaccount.com]")
        #expect(Array(third.outFrames) == ALTSHandshakeAlert.accessDenied.wireMessage)
        let (fourth, serverDone) = server.handle(Requests.next(third.outFrames))
        #expect(serverDone && fourth.status.code == 10)
        #expect(fourth.status.details == "peer aborted the handshake: access_denied")
        // Nothing to send back: one byte more than given, so grpc-go (which ignores later
        // statuses) gives up at once instead of reading until its deadline.
        #expect(fourth.outFrames.isEmpty)
        #expect(Int(fourth.bytesConsumed) == third.outFrames.count + 1)
    }

    @Test("bad requests get INVALID_ARGUMENT with a message and end the stream")
    func badRequests() throws {
        let accounts = try Accounts()
        func refusal(_ requests: [Grpc_Gcp_HandshakerReq], limits: HandshakerServiceLimits = .init()) -> Grpc_Gcp_HandshakerResp {
            let session = HandshakerSession(identities: [accounts.client], limits: limits)
            var last = Grpc_Gcp_HandshakerResp()
            for request in requests { last = session.handle(request).response }
            return last
        }
        let nextFirst = refusal([Requests.next(Data([1, 2, 3]))])
        #expect(nextFirst.status.code == 3)
        #expect(nextFirst.status.details == "invalid handshaker request: next arrived before client_start or server_start")
        #expect(refusal([Grpc_Gcp_HandshakerReq()]).status.details == "invalid handshaker request: request has none of client_start, server_start, next")
        #expect(refusal([Requests.serverStart(Data(), withALTSParameters: false)]).status.details
            == "invalid handshaker request: server_start has no handshake_parameters entry for ALTS (2)")
        var tls = Requests.clientStart()
        tls.clientStart.handshakeSecurityProtocol = .tls
        #expect(refusal([tls]).status.details == "invalid handshaker request: handshake_security_protocol 1 is not ALTS (2)")
        var hostname = Requests.clientStart()
        hostname.clientStart.targetIdentities = [{ var identity = Grpc_Gcp_Identity(); identity.hostname = "alts-server"; return identity }()]
        #expect(refusal([hostname]).status.details == "invalid handshaker request: target identities must be service accounts; hostname identities are not supported")
        #expect(refusal([Requests.clientStart(recordProtocols: ["ALTSRP_GMAC_128"])]).status.code == 9)
        #expect(refusal([Requests.clientStart(), Requests.clientStart()]).status.details == "invalid handshaker request: client_start on a stream that already started")
        var small = HandshakerServiceLimits()
        small.maxInBytesPerRequest = 100
        let tooBig = refusal([Requests.clientStart(), Requests.next(Data(repeating: 0, count: 101))], limits: small)
        #expect(tooBig.status.details == "invalid handshaker request: in_bytes of 101 bytes exceeds the limit of 100")
        // The handshake had started, so its peer is told too.
        #expect(Array(tooBig.outFrames) == ALTSHandshakeAlert.internalError.wireMessage)
    }

    @Test("local_identity chooses among several loaded identities")
    func localIdentity() throws {
        let accounts = try Accounts()
        let other = try CredentialStore(directory: try accounts.credentials.issue("batch", project: "alpha"))
        let server = HandshakerSession(identities: [accounts.server])
        let client = HandshakerSession(identities: [accounts.client, other])
        let first = client.handle(Requests.clientStart(localIdentity: "batch@alpha.iam.gserviceaccount.com")).response
        let second = server.handle(Requests.serverStart(first.outFrames)).response
        let third = client.handle(Requests.next(second.outFrames)).response
        #expect(third.result.localIdentity.serviceAccount == "batch@alpha.iam.gserviceaccount.com")
        let fourth = server.handle(Requests.next(third.outFrames)).response
        #expect(fourth.result.peerIdentity.serviceAccount == "batch@alpha.iam.gserviceaccount.com")

        let unknown = HandshakerSession(identities: [accounts.client, other])
        let refused = unknown.handle(Requests.clientStart(localIdentity: "root@alpha.iam.gserviceaccount.com")).response
        #expect(refused.status.code == 3)
        #expect(refused.status.details == "invalid handshaker request: local identity [root@alpha.iam.gserviceaccount.com] is not held by this handshaker (it holds alts-client@alpha.iam.gserviceaccount.com, batch@alpha.iam.gserviceaccount.com)")
    }

    @Test("a request after the stream's result is refused")
    func afterDone() throws {
        let accounts = try Accounts()
        let client = HandshakerSession(identities: [accounts.client])
        let server = HandshakerSession(identities: [accounts.server])
        let first = client.handle(Requests.clientStart()).response
        let second = server.handle(Requests.serverStart(first.outFrames)).response
        _ = client.handle(Requests.next(second.outFrames))
        let late = client.handle(Requests.next(Data([0]))).response
        #expect(late.status.details == "invalid handshaker request: the handshake on this stream has already ended")
    }
}
