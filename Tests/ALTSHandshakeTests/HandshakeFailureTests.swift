import ALTSHandshake
import ALTSIdentity
import ALTSTestSupport
import Foundation
import Testing

@Suite("Handshake: every rejection path")
struct HandshakeFailureTests {
    @Test("a server outside the client's targets: the client names both, the server gets access_denied")
    func targetMismatch() throws {
        let pair = try Pair.make(project: "alpha")
        var options = ALTSHandshakeOptions()
        options.targetServiceAccounts = ["billing@alpha.iam.gserviceaccount.com", "ledger@alpha.iam.gserviceaccount.com"]
        let (client, server) = try pair.handshakers(clientOptions: options)
        let run = runHandshake(client: client, server: server)
        let error = try #require(run.clientError)
        #expect(error.kind == .targetMismatch(
            peer: "alts-server@alpha.iam.gserviceaccount.com",
            targets: ["billing@alpha.iam.gserviceaccount.com", "ledger@alpha.iam.gserviceaccount.com"]))
        #expect(error.description == "peer service account alts-server@alpha.iam.gserviceaccount.com is not one of the target service accounts [billing@alpha.iam.gserviceaccount.com, ledger@alpha.iam.gserviceaccount.com]")
        #expect(run.serverError?.kind == .peerAlert(.accessDenied))
        #expect(run.serverResult == nil)
    }

    @Test("a client outside the server's allow-list is refused, and the client is told")
    func allowList() throws {
        let pair = try Pair.make(project: "alpha")
        var options = ALTSHandshakeOptions()
        options.allowedPeerServiceAccounts = ["frontend@alpha.iam.gserviceaccount.com"]
        let (client, server) = try pair.handshakers(serverOptions: options)
        let run = runHandshake(client: client, server: server)
        #expect(run.serverError?.kind == .peerNotAllowed(peer: "alts-client@alpha.iam.gserviceaccount.com", allowed: ["frontend@alpha.iam.gserviceaccount.com"]))
        // The client finished first; the server's alert follows as its next bytes.
        #expect(run.serverToClient.last == [21, 0, 0, 1, ALTSHandshakeAlert.accessDenied.rawValue])
    }

    @Test("an account from an unfederated project: untrusted issuer; federated: accepted; removed: refused again")
    func federationLifecycle() throws {
        let credentials = try TestCredentials()
        let outsider = try credentials.credential("intruder", project: "gamma", trusting: ["alpha"])
        let serverDirectory = try credentials.issue("alts-server", project: "alpha")
        func attempt() throws -> HandshakeRun {
            runHandshake(
                client: try ALTSHandshaker(role: .client, credential: outsider),
                server: try ALTSHandshaker(role: .server, credential: try ALTSCredential.load(directory: serverDirectory)))
        }
        let refused = try attempt()
        #expect(refused.serverError?.kind == .untrustedIssuer(issuer: "CN=swift-alts project gamma"))
        #expect(refused.serverToClient.last == [21, 0, 0, 1, ALTSHandshakeAlert.unknownIssuer.rawValue])

        _ = try CredentialDirectory(serverDirectory).addTrustedRoot(ProjectRoot(certificate: try credentials.authority("gamma").certificate))
        #expect(try attempt().serverResult?.peer.serviceAccount == "intruder@gamma.iam.gserviceaccount.com")

        try CredentialDirectory(serverDirectory).removeTrustedRoot(project: "gamma")
        #expect(try attempt().serverError?.kind == .untrustedIssuer(issuer: "CN=swift-alts project gamma"))
    }

    @Test("an expired server certificate: certificate_expired at the client, with dates")
    func expired() throws {
        let pair = try Pair.make()
        let later = Date().addingTimeInterval(2 * 86_400)
        let (client, server) = try pair.handshakers(clientClock: { later })
        let run = runHandshake(client: client, server: server)
        guard case .certificateExpired(let notAfter, let now)? = run.clientError?.kind else {
            Issue.record("expected certificateExpired, got \(String(describing: run.clientError))")
            return
        }
        #expect(now == later)
        #expect(notAfter < later)
        #expect(run.serverError?.kind == .peerAlert(.certificateExpired))
    }

    @Test("a client certificate not yet valid at the server, beyond the clock skew")
    func notYetValid() throws {
        let pair = try Pair.make()
        let earlier = Date().addingTimeInterval(-3_600)
        let (client, server) = try pair.handshakers(serverClock: { earlier })
        let run = runHandshake(client: client, server: server)
        guard case .certificateNotYetValid(_, let now)? = run.serverError?.kind else {
            Issue.record("expected certificateNotYetValid, got \(String(describing: run.serverError))")
            return
        }
        #expect(now == earlier)
    }

    @Test("clock skew within the configured tolerance is accepted")
    func skewTolerated() throws {
        let pair = try Pair.make()
        // Leaves are valid from 5 minutes before issuance; 8 minutes early is within 5 + 5.
        let earlier = Date().addingTimeInterval(-480)
        let (client, server) = try pair.handshakers(serverClock: { earlier })
        #expect(runHandshake(client: client, server: server).serverResult != nil)
        var strict = ALTSHandshakeOptions()
        strict.clockSkew = 0
        let (client2, server2) = try pair.handshakers(serverOptions: strict, serverClock: { earlier })
        #expect(runHandshake(client: client2, server: server2).serverError != nil)
    }

    @Test("a certificate without the clientAuth usage: wrong key usage")
    func wrongKeyUsage() throws {
        let credentials = try TestCredentials()
        let (badClient, root) = try credentials.handBuiltCredential(
            email: "no-client-auth@delta.iam.gserviceaccount.com", project: "delta", extendedKeyUsage: [.serverAuth],
            trusting: ["delta-peer"])
        let serverDirectory = try credentials.issue("alts-server", project: "delta-peer")
        _ = try CredentialDirectory(serverDirectory).addTrustedRoot(ProjectRoot(certificate: root))
        let run = runHandshake(
            client: try ALTSHandshaker(role: .client, credential: badClient),
            server: try ALTSHandshaker(role: .server, credential: try ALTSCredential.load(directory: serverDirectory)))
        guard case .wrongKeyUsage(let detail)? = run.serverError?.kind else {
            Issue.record("expected wrongKeyUsage, got \(String(describing: run.serverError))")
            return
        }
        #expect(detail.contains("clientAuth"))
        // The client finished before the server looked at its certificate (one round trip, as
        // in TLS 1.3); it learns of the refusal from the alert that follows.
        #expect(run.clientResult != nil)
        #expect(run.serverToClient.last == [21, 0, 0, 1, ALTSHandshakeAlert.badCertificate.rawValue])
    }

    @Test("incompatible RPC versions fail at the server, which says handshake_failure")
    func rpcVersions() throws {
        let pair = try Pair.make()
        var options = ALTSHandshakeOptions()
        options.rpcVersions = RPCProtocolVersions(max: .init(major: 3, minor: 0), min: .init(major: 3, minor: 0))
        let (client, server) = try pair.handshakers(clientOptions: options)
        let run = runHandshake(client: client, server: server)
        #expect(run.serverError?.kind == .incompatibleRPCVersions(local: .grpcDefault, peer: options.rpcVersions))
        #expect(run.serverError?.description == "incompatible RPC protocol versions: local 2.1…2.1, peer 3.0…3.0")
        #expect(run.clientError?.kind == .peerAlert(.handshakeFailure))
    }

    @Test("no common record protocol, no common application protocol")
    func noCommonProtocols() throws {
        let pair = try Pair.make()
        var plainOnly = ALTSHandshakeOptions()
        plainOnly.recordProtocols = ["ALTSRP_GCM_AES128"]
        let (client, server) = try pair.handshakers(clientOptions: plainOnly)
        let run = runHandshake(client: client, server: server)
        #expect(run.serverError?.kind == .noCommonRecordProtocol(offered: ["ALTSRP_GCM_AES128"], supported: ["ALTSRP_GCM_AES128_REKEY"]))
        #expect(run.clientError?.kind == .peerAlert(.handshakeFailure))

        var h2 = ALTSHandshakeOptions()
        h2.applicationProtocols = ["h2"]
        let (client2, server2) = try pair.handshakers(clientOptions: h2)
        #expect(runHandshake(client: client2, server: server2).serverError?.kind == .noCommonApplicationProtocol(offered: ["h2"], supported: ["grpc"]))
    }

    @Test("garbage bytes: an unknown message, a wrong version, a truncated body, an oversized header")
    func garbage() throws {
        let pair = try Pair.make()
        func serverError(_ bytes: [UInt8]) throws -> (ALTSHandshakeError?, [UInt8]) {
            let server = try ALTSHandshaker(role: .server, credential: pair.server)
            let step = server.process(bytes)
            if case .failed(let error) = step.outcome { return (error, step.outBytes) }
            return (nil, step.outBytes)
        }
        let http = try serverError(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(http.0?.kind == .messageTooLarge(length: 4 + 0x455420, limit: 65_536))  // "ET " read as a length
        #expect(http.1 == [21, 0, 0, 1, ALTSHandshakeAlert.decodeError.rawValue])
        #expect(try serverError([2, 0, 0, 2, 0, 1]).0?.kind == .unexpectedMessage(type: 2, expected: "ClientInit"))
        #expect(try serverError([1, 0, 0, 2, 0, 9]).0?.kind == .unsupportedVersion(9))
        #expect(try serverError([1, 0, 0, 3, 0, 1, 7]).0?.kind == .malformedMessage("ClientInit random truncated"))
        #expect(try serverError([1, 0xff, 0xff, 0xff]).0?.kind == .messageTooLarge(length: 4 + 0xffffff, limit: 65_536))
        #expect(try serverError([21, 0, 0, 1, 99]).0?.kind == .malformedMessage("Alert body is not one known code"))
    }

    @Test("an unknown version is answered with protocol_version")
    func versionAlert() throws {
        let pair = try Pair.make()
        let server = try ALTSHandshaker(role: .server, credential: pair.server)
        let step = server.process([1, 0, 0, 2, 0, 2])
        #expect(step.outBytes == [21, 0, 0, 1, ALTSHandshakeAlert.protocolVersion.rawValue])
    }

    @Test("after failing, every call reports the original failure and sends nothing")
    func poisoned() throws {
        let pair = try Pair.make()
        let server = try ALTSHandshaker(role: .server, credential: pair.server)
        _ = server.process([9, 0, 0, 0])
        let again = server.process([1, 2, 3])
        #expect(again.outBytes.isEmpty)
        guard case .failed(let error) = again.outcome else { Issue.record("not failed"); return }
        #expect(error.kind == .alreadyFailed(.unexpectedMessage(type: 9, expected: "ClientInit")))
        #expect(server.isDone)
    }

    @Test("input after success is refused")
    func afterSuccess() throws {
        let pair = try Pair.make()
        let (client, server) = try pair.handshakers()
        _ = runHandshake(client: client, server: server)
        guard case .failed(let error) = client.process([0]).outcome else { Issue.record("accepted"); return }
        #expect(error.kind == .alreadyFinished)
    }
}
