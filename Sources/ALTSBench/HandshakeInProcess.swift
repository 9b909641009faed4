import ALTSHandshake
import ALTSIdentity
import ALTSRecord
import ArgumentParser
import Foundation
import Synchronization

/// Full handshakes per second with both handshakers in this process, bytes handed over in
/// memory: the cost of the handshake core alone, without sockets or an event loop.
struct HandshakeInProcessBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake-inprocess",
        abstract: "Full ALTS handshakes per second, client and server in this process, no sockets.")

    @Option(help: "Seconds for each measurement (one thread, then all threads).")
    var seconds = 3.0

    @Option(help: "Worker threads for the second measurement, each running its own handshakes.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let directory = try makeHandshakeBenchTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let paths = try HandshakeBenchCredentials.make(in: directory)
        let pair = HandshakePair(
            client: try HandshakeBenchCredentials.load(paths.client),
            server: try HandshakeBenchCredentials.load(paths.server))

        // Untimed: the first handshake verifies each leaf against its root and fills the trust
        // bundles' signature caches, which is the steady state of a long-running process.
        for _ in 0..<32 {
            if let failure = pair.run() { throw ValidationError("warm-up handshake failed: \(failure)") }
        }
        let single = Self.measure(pair, threads: 1, seconds: seconds)
        let multi = Self.measure(pair, threads: threads, seconds: seconds)
        print(
            "single_thread_hs_per_s=\(Int(single.rate.rounded())) threads=\(threads) "
                + "total_hs_per_s=\(Int(multi.rate.rounded())) "
                + "handshakes=\(single.handshakes + multi.handshakes) failures=\(single.failures + multi.failures)")
        if let failure = single.firstFailure ?? multi.firstFailure {
            print("FAILED: \(single.failures + multi.failures) handshakes did not complete with equal keys; first: \(failure)")
            throw ExitCode.failure
        }
    }

    private struct Tally {
        var handshakes = 0
        var failures = 0
        var firstFailure: String?
        /// Sum of each thread's own handshakes/s, so a thread that started late does not dilute it.
        var rate = 0.0
    }

    private final class SharedTally: Sendable {
        let tally = Mutex(Tally())
    }

    /// Runs `threads` independent handshake loops at once for `seconds`.
    private static func measure(_ pair: HandshakePair, threads: Int, seconds: Double) -> Tally {
        let shared = SharedTally()
        let finished = DispatchGroup()
        for _ in 0..<threads {
            finished.enter()
            let thread = Thread {
                let clock = ContinuousClock()
                let start = clock.now
                let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
                var local = Tally()
                var now = start
                while now < deadline {
                    if let failure = pair.run() {
                        local.failures += 1
                        if local.firstFailure == nil { local.firstFailure = failure }
                    } else {
                        local.handshakes += 1
                    }
                    now = clock.now
                }
                let elapsed = start.duration(to: now)
                local.rate = Double(local.handshakes) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                shared.tally.withLock { total in
                    total.handshakes += local.handshakes
                    total.failures += local.failures
                    total.rate += local.rate
                    if total.firstFailure == nil { total.firstFailure = local.firstFailure }
                }
                finished.leave()
            }
            thread.start()
        }
        finished.wait()
        return shared.tally.withLock { $0 }
    }
}

/// One client and one server credential, and a complete handshake between fresh handshakers.
struct HandshakePair: Sendable {
    let client: ALTSCredential
    let server: ALTSCredential

    /// Runs the three flights; nil on success, else why it failed. Success means both ends
    /// completed, derived the same 44 bytes of key data, and named each other correctly.
    func run() -> String? {
        let clientSide: ALTSHandshaker
        let serverSide: ALTSHandshaker
        do {
            clientSide = try ALTSHandshaker(role: .client, credential: client)
            serverSide = try ALTSHandshaker(role: .server, credential: server)
        } catch {
            return "cannot create handshakers: \(error)"
        }
        let clientInit = clientSide.start()
        let serverFlight = serverSide.process(clientInit.outBytes)
        guard case .inProgress = serverFlight.outcome, !serverFlight.outBytes.isEmpty else {
            return "server after ClientInit: \(serverFlight.outcome)"
        }
        let clientFinish = clientSide.process(serverFlight.outBytes)
        guard case .completed(let clientResult) = clientFinish.outcome else {
            return "client after ServerInit+ServerAuth: \(clientFinish.outcome)"
        }
        let serverFinish = serverSide.process(clientFinish.outBytes)
        guard case .completed(let serverResult) = serverFinish.outcome else {
            return "server after ClientAuth: \(serverFinish.outcome)"
        }
        guard clientResult.keyData.count == ALTSRecordProtocol.aes128GCMRekey.keyLength,
            clientResult.keyData == serverResult.keyData
        else {
            return "key data differs (\(clientResult.keyData.count) and \(serverResult.keyData.count) bytes)"
        }
        guard clientResult.peer.serviceAccount == server.serviceAccount.email,
            serverResult.peer.serviceAccount == client.serviceAccount.email
        else {
            return "peers named \(clientResult.peer.serviceAccount) and \(serverResult.peer.serviceAccount)"
        }
        return nil
    }
}
