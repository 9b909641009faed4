import ALTSHandshake
import ALTSIdentity
import ALTSRecord
import ALTSTestSupport
import Foundation

/// Drives a client and a server handshaker against each other in memory, with an optional
/// hook that may rewrite what travels in each direction.
struct HandshakeRun {
    var clientOutcome: ALTSHandshakeStep.Outcome?
    var serverOutcome: ALTSHandshakeStep.Outcome?
    var clientToServer: [[UInt8]] = []
    var serverToClient: [[UInt8]] = []
    var serverFinalConsumed = 0
    var serverLeftover: [UInt8] = []

    var clientResult: ALTSHandshakeResult? {
        if case .completed(let result) = clientOutcome { return result }
        return nil
    }

    var serverResult: ALTSHandshakeResult? {
        if case .completed(let result) = serverOutcome { return result }
        return nil
    }

    var clientError: ALTSHandshakeError? {
        if case .failed(let error) = clientOutcome { return error }
        return nil
    }

    var serverError: ALTSHandshakeError? {
        if case .failed(let error) = serverOutcome { return error }
        return nil
    }
}

enum Direction { case clientToServer, serverToClient }

/// Runs one handshake flight by flight (ClientInit; ServerInit+ServerAuth or an alert;
/// ClientAuth or an alert; the server's late alert). `relay` sees each flight and returns what
/// the other side receives. `applicationData` follows the client's final flight, as a real
/// client's first records would.
func runHandshake(
    client: ALTSHandshaker, server: ALTSHandshaker, applicationData: [UInt8] = [],
    relay: (Direction, [UInt8]) -> [UInt8] = { $1 }
) -> HandshakeRun {
    var run = HandshakeRun()
    func record(_ step: ALTSHandshakeStep, client isClient: Bool, delivered: [UInt8]) {
        if case .inProgress = step.outcome { return }
        if isClient {
            if run.clientOutcome == nil { run.clientOutcome = step.outcome }
        } else if run.serverOutcome == nil {
            run.serverOutcome = step.outcome
            run.serverFinalConsumed = step.bytesConsumed
            run.serverLeftover = Array(delivered[step.bytesConsumed...])
        }
    }
    func toServer(_ bytes: [UInt8], extra: [UInt8] = []) -> ALTSHandshakeStep? {
        guard !bytes.isEmpty, run.serverOutcome == nil else { return nil }
        run.clientToServer.append(bytes)
        let delivered = relay(.clientToServer, bytes) + extra
        let step = server.process(delivered)
        record(step, client: false, delivered: delivered)
        return step
    }
    func toClient(_ bytes: [UInt8]) -> ALTSHandshakeStep? {
        guard !bytes.isEmpty, run.clientOutcome == nil else { return nil }
        run.serverToClient.append(bytes)
        let delivered = relay(.serverToClient, bytes)
        let step = client.process(delivered)
        record(step, client: true, delivered: delivered)
        return step
    }
    let clientInit = client.start().outBytes
    guard let serverFlight = toServer(clientInit) else { return run }
    guard let clientFlight = toClient(serverFlight.outBytes) else { return run }
    let clientDone: Bool = { if case .completed = run.clientOutcome { return true } else { return false } }()
    guard let lateServer = toServer(clientFlight.outBytes, extra: clientDone ? applicationData : []) else { return run }
    if !lateServer.outBytes.isEmpty { run.serverToClient.append(lateServer.outBytes) }
    return run
}

/// A pair of credentials from one project, plus options, ready to run.
struct Pair {
    let credentials: TestCredentials
    let client: ALTSCredential
    let server: ALTSCredential

    static func make(project: String = "alpha", clientName: String = "alts-client", serverName: String = "alts-server") throws -> Pair {
        let credentials = try TestCredentials()
        return Pair(
            credentials: credentials,
            client: try credentials.credential(clientName, project: project),
            server: try credentials.credential(serverName, project: project))
    }

    func handshakers(
        clientOptions: ALTSHandshakeOptions = ALTSHandshakeOptions(), serverOptions: ALTSHandshakeOptions = ALTSHandshakeOptions(),
        clientClock: @escaping @Sendable () -> Date = { Date() }, serverClock: @escaping @Sendable () -> Date = { Date() }
    ) throws -> (ALTSHandshaker, ALTSHandshaker) {
        (try ALTSHandshaker(role: .client, credential: client, options: clientOptions, now: clientClock),
         try ALTSHandshaker(role: .server, credential: server, options: serverOptions, now: serverClock))
    }
}
