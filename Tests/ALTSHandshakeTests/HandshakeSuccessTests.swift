import ALTSHandshake
import ALTSIdentity
import ALTSRecord
import ALTSTestSupport
import Foundation
import Testing

@Suite("Handshake: successful runs")
struct HandshakeSuccessTests {
    @Test("both ends agree on keys, identities and protocols")
    func success() throws {
        let pair = try Pair.make(project: "alpha")
        var clientOptions = ALTSHandshakeOptions()
        clientOptions.targetServiceAccounts = ["alts-server@alpha.iam.gserviceaccount.com"]
        clientOptions.maxFrameSize = 65_536
        var serverOptions = ALTSHandshakeOptions()
        serverOptions.allowedPeerServiceAccounts = ["alts-client@alpha.iam.gserviceaccount.com"]
        let (client, server) = try pair.handshakers(clientOptions: clientOptions, serverOptions: serverOptions)
        let run = runHandshake(client: client, server: server)
        let clientResult = try #require(run.clientResult)
        let serverResult = try #require(run.serverResult)

        #expect(clientResult.keyData.count == 44)
        #expect(clientResult.keyData == serverResult.keyData)
        #expect(clientResult.recordProtocol == "ALTSRP_GCM_AES128_REKEY")
        #expect(serverResult.recordProtocol == "ALTSRP_GCM_AES128_REKEY")
        #expect(clientResult.applicationProtocol == "grpc")
        #expect(clientResult.peer.serviceAccount == "alts-server@alpha.iam.gserviceaccount.com")
        #expect(clientResult.localServiceAccount == "alts-client@alpha.iam.gserviceaccount.com")
        #expect(serverResult.peer.serviceAccount == "alts-client@alpha.iam.gserviceaccount.com")
        #expect(serverResult.localServiceAccount == "alts-server@alpha.iam.gserviceaccount.com")
        #expect(serverResult.peer.attributes["project"] == "alpha")
        #expect(serverResult.peer.attributes["spiffe_id"] == "spiffe://alpha/sa/alts-client")
        #expect(clientResult.peerRPCVersions == .grpcDefault)
        #expect(serverResult.peerMaxFrameSize == 65_536)
        #expect(clientResult.peerMaxFrameSize == 1_048_576)
        // Three flights, one round trip.
        #expect(run.clientToServer.count == 2)
        #expect(run.serverToClient.count == 1)
    }

    @Test("the key data opens the other end's records")
    func keysWork() throws {
        let pair = try Pair.make()
        let (client, server) = try pair.handshakers()
        let run = runHandshake(client: client, server: server)
        let clientKeys = try #require(run.clientResult).keyData
        let serverKeys = try #require(run.serverResult).keyData
        let sealer = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .client, keyData: clientKeys)
        let opener = try ALTSRecordProtector(recordProtocol: .aes128GCMRekey, role: .server, keyData: serverKeys)
        var reader = ALTSRecordReader(protector: opener)
        #expect(try reader.read(sealer.protect(Array("after the handshake".utf8))) == Array("after the handshake".utf8))
    }

    @Test("two handshakes between the same accounts give different keys (fresh randomness)")
    func freshKeys() throws {
        let pair = try Pair.make()
        let (c1, s1) = try pair.handshakers()
        let (c2, s2) = try pair.handshakers()
        let first = try #require(runHandshake(client: c1, server: s1).clientResult).keyData
        let second = try #require(runHandshake(client: c2, server: s2).clientResult).keyData
        #expect(first != second)
    }

    @Test("ALTSRP_GCM_AES128 gives 16 bytes of key data")
    func plainProtocol() throws {
        let pair = try Pair.make()
        var options = ALTSHandshakeOptions()
        options.recordProtocols = ["ALTSRP_GCM_AES128"]
        var serverOptions = ALTSHandshakeOptions()
        serverOptions.recordProtocols = ["ALTSRP_GCM_AES128_REKEY", "ALTSRP_GCM_AES128"]
        let (client, server) = try pair.handshakers(clientOptions: options, serverOptions: serverOptions)
        let run = runHandshake(client: client, server: server)
        #expect(try #require(run.clientResult).keyData.count == 16)
        #expect(run.serverResult?.recordProtocol == "ALTSRP_GCM_AES128")
    }

    @Test("bytes_consumed counts only handshake bytes; the rest is the peer's first records")
    func bytesConsumed() throws {
        let pair = try Pair.make()
        let (client, server) = try pair.handshakers()
        let early = Array("early application data".utf8)
        let run = runHandshake(client: client, server: server, applicationData: early)
        #expect(run.serverResult != nil)
        #expect(run.serverFinalConsumed == run.clientToServer[1].count)
        #expect(run.serverLeftover == early)
    }

    @Test("input split into 1-byte pieces is buffered and fully consumed")
    func byteByByte() throws {
        let pair = try Pair.make()
        let (client, server) = try pair.handshakers()
        let clientInit = client.start().outBytes
        var serverOut: [UInt8] = []
        for byte in clientInit {
            let step = server.process([byte])
            #expect(step.bytesConsumed == 1)
            serverOut += step.outBytes
        }
        var clientOut: [UInt8] = []
        var clientResult: ALTSHandshakeResult?
        for byte in serverOut {
            let step = client.process([byte])
            clientOut += step.outBytes
            if case .completed(let result) = step.outcome { clientResult = result }
        }
        var serverResult: ALTSHandshakeResult?
        for byte in clientOut {
            let step = server.process([byte])
            if case .completed(let result) = step.outcome { serverResult = result }
        }
        #expect(clientResult != nil)
        #expect(clientResult?.keyData == serverResult?.keyData)
    }

    @Test("a federated project's account is accepted")
    func federation() throws {
        let credentials = try TestCredentials()
        let client = try credentials.credential("caller", project: "beta", trusting: ["alpha"])
        let server = try credentials.credential("alts-server", project: "alpha", trusting: ["beta"])
        let run = runHandshake(
            client: try ALTSHandshaker(role: .client, credential: client),
            server: try ALTSHandshaker(role: .server, credential: server))
        #expect(run.serverResult?.peer.serviceAccount == "caller@beta.iam.gserviceaccount.com")
        #expect(run.clientResult?.peer.serviceAccount == "alts-server@alpha.iam.gserviceaccount.com")
    }

    @Test("the RPC version rule of FACTS §4.6")
    func rpcVersionRule() {
        typealias V = RPCProtocolVersions.Version
        let local = RPCProtocolVersions(max: V(major: 2, minor: 1), min: V(major: 2, minor: 1))
        #expect(local.highestCommonVersion(with: .grpcDefault) == V(major: 2, minor: 1))
        #expect(local.highestCommonVersion(with: RPCProtocolVersions(max: V(major: 3, minor: 0), min: V(major: 2, minor: 0))) == V(major: 2, minor: 1))
        #expect(local.highestCommonVersion(with: RPCProtocolVersions(max: V(major: 2, minor: 0), min: V(major: 1, minor: 0))) == nil)
        #expect(local.highestCommonVersion(with: RPCProtocolVersions(max: V(major: 3, minor: 1), min: V(major: 2, minor: 2))) == nil)
    }
}
