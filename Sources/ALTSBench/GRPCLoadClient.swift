import ALTSEchoProto
import ALTSGRPC
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// The client half of bench/load.sh: many connections at once, each its own `GRPCClient`.
///
/// Phase 1 opens `connections` connections to grpc-server all at once (for ALTS each returns
/// when its handshake is done). Phase 2 starts when every connect has finished: each
/// connection makes `rpcs` unary Echo RPCs one after another, all connections concurrently, so
/// up to `connections` RPCs are in flight and every connection is open at the same time.
/// Prints one `load …` line; exits non-zero if any connect or RPC failed.
struct GRPCLoadClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-client",
        abstract: "Open N gRPC connections to grpc-server at once, then M sequential unary Echo RPCs on each, all concurrently (for bench/load.sh).")

    @Option(help: "alts or plaintext; must match the server's.")
    var security: GRPCBenchSecurity

    @OptionGroup var target: GRPCBenchTarget

    @Option(help: "Connections, each with its own GRPCClient, all opened at once.")
    var connections = 1000

    @Option(help: "Sequential unary RPCs on each connection.")
    var rpcs = 100

    @Option(help: "Deadline of each RPC, in seconds.")
    var rpcTimeout = 30.0

    func validate() throws {
        guard connections >= 1, rpcs >= 1, rpcTimeout > 0 else {
            throw ValidationError("--connections, --rpcs and --rpc-timeout must be positive")
        }
        guard security != .mtls else { throw ValidationError("load-client supports --security alts and plaintext") }
    }

    func run() throws {
        let security = self.security
        let port = target.port
        let keys = GRPCBenchKeys(credentials: target.credentials, tlsDirectory: nil)
        let load = GRPCConnectionLoad(connections: connections, rpcs: rpcs, message: target.message, rpcTimeout: rpcTimeout)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: target.threads)
        defer { try? group.syncShutdownGracefully() }

        let report: GRPCConnectionLoad.Report
        if security == .alts {
            // One credential store for every connection, as one process would have.
            let handshakers = try GRPCBench.altsClientHandshakers(keys, serverAccount: target.serverAccount)
            report = try GRPCBench.runBlocking(on: group) {
                await load.run { try await GRPCBench.connectALTS(port: port, handshakers: handshakers, group: group) }
            }
        } else {
            // WrappedChannel, like ALTSClientTransport, and connected eagerly like it, so that
            // the connect figures compare TCP with TCP + handshake.
            report = try GRPCBench.runBlocking(on: group) {
                await load.run { try await GRPCBench.connectPlaintextWrapped(port: port, group: group) }
            }
        }

        let errors = report.errors.summary()
        for (message, count) in errors.distinct.prefix(5) {
            FileHandle.standardError.write(Data("error (\(count)×): \(message)\n".utf8))
        }
        let rpcsDone = report.rpcLatencies.totalCount
        let milliseconds = { (microseconds: UInt64) in String(format: "%.2f", Double(microseconds) / 1000) }
        let seconds = { (duration: Duration) in Double(GRPCBench.microseconds(duration)) / 1e6 }
        let elapsed = seconds(report.connectPhase + report.rpcPhase)
        print(
            "load security=\(security.rawValue) connections=\(connections) connected=\(report.connectLatencies.totalCount) "
                + "rpcs_per_connection=\(rpcs) rpcs=\(rpcsDone) errors=\(errors.connect + errors.rpc) "
                + "connect_errors=\(errors.connect) rpc_errors=\(errors.rpc) "
                + "elapsed_s=\(String(format: "%.3f", elapsed)) connect_phase_s=\(String(format: "%.3f", seconds(report.connectPhase))) "
                + "rpc_phase_s=\(String(format: "%.3f", seconds(report.rpcPhase))) "
                + "rpcs_per_s=\(Int((Double(rpcsDone) / elapsed).rounded())) "
                + "rpc_phase_rpcs_per_s=\(Int((Double(rpcsDone) / seconds(report.rpcPhase)).rounded())) "
                + "connect_p50_ms=\(milliseconds(report.connectLatencies.valueAtPercentile(50))) "
                + "connect_p99_ms=\(milliseconds(report.connectLatencies.valueAtPercentile(99))) "
                + "connect_max_ms=\(milliseconds(report.connectLatencies.max)) "
                + "rpc_p50_ms=\(milliseconds(report.rpcLatencies.valueAtPercentile(50))) "
                + "rpc_p99_ms=\(milliseconds(report.rpcLatencies.valueAtPercentile(99))) "
                + "rpc_p999_ms=\(milliseconds(report.rpcLatencies.valueAtPercentile(99.9))) "
                + "rpc_max_ms=\(milliseconds(report.rpcLatencies.max)) "
                + "cpu_ms=\(GRPCBench.processCPUMilliseconds()) threads=\(target.threads)")
        if errors.connect + errors.rpc > 0 || rpcsDone != UInt64(connections * rpcs) {
            throw ExitCode.failure
        }
    }
}

struct GRPCConnectionLoad: Sendable {
    let connections: Int
    let rpcs: Int
    let message: String
    let rpcTimeout: Double

    struct Report: Sendable {
        /// Microseconds from starting to connect until the transport was ready, per connection
        /// that connected.
        var connectLatencies: Histogram<UInt64>
        /// Microseconds per RPC that succeeded.
        var rpcLatencies: Histogram<UInt64>
        var connectPhase: Duration
        var rpcPhase: Duration
        var errors: GRPCLoadErrors
    }

    func run<Transport: ClientTransport>(connect: @escaping @Sendable () async throws -> Transport) async -> Report {
        let clock = ContinuousClock()
        let errors = GRPCLoadErrors()
        let connects = GRPCBenchLatencyRecorder()
        let start = clock.now
        let transports = await withTaskGroup(of: Transport?.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let began = clock.now
                    do {
                        let transport = try await connect()
                        connects.record(began.duration(to: clock.now))
                        return transport
                    } catch {
                        errors.record(error, connecting: true)
                        return nil
                    }
                }
            }
            var transports: [Transport] = []
            for await transport in group {
                if let transport { transports.append(transport) }
            }
            return transports
        }
        let connected = clock.now
        let latencies = GRPCBenchLatencyRecorder()
        let load = self
        await withDiscardingTaskGroup { group in
            for transport in transports {
                group.addTask { await load.sequence(over: transport, latencies: latencies, errors: errors, clock: clock) }
            }
        }
        return Report(
            connectLatencies: connects.snapshot, rpcLatencies: latencies.snapshot,
            connectPhase: start.duration(to: connected), rpcPhase: connected.duration(to: clock.now), errors: errors)
    }

    /// `rpcs` RPCs one after another on one connection; a failed one is counted and the next
    /// one is still made.
    private func sequence<Transport: ClientTransport>(
        over transport: Transport, latencies: GRPCBenchLatencyRecorder, errors: GRPCLoadErrors, clock: ContinuousClock
    ) async {
        let request = GRPCBench.echoRequest(message)
        let expected = message
        let rpcs = self.rpcs
        var options = CallOptions.defaults
        options.timeout = .milliseconds(Int64(rpcTimeout * 1000))
        do {
            try await withGRPCClient(transport: transport) { client in
                let echo = Grpc_Examples_Echo_Echo.Client(wrapping: client)
                for _ in 0..<rpcs {
                    let sent = clock.now
                    do {
                        let reply = try await echo.unaryEcho(request, options: options)
                        if reply.message == expected {
                            latencies.record(sent.duration(to: clock.now))
                        } else {
                            errors.record(ValidationError("the server echoed \(reply.message.debugDescription)"), connecting: false)
                        }
                    } catch {
                        errors.record(error, connecting: false)
                    }
                }
            }
        } catch {
            // The client itself failed (its connection could not run): count it once.
            errors.record(error, connecting: false)
        }
    }
}

/// Failed connects and RPCs, and how often each distinct message occurred, in order of first
/// occurrence.
final class GRPCLoadErrors: Sendable {
    private struct State {
        var connect = 0
        var rpc = 0
        var messages: [String] = []
        var counts: [String: Int] = [:]
    }

    private let state = Mutex(State())

    func record(_ error: any Error, connecting: Bool) {
        let message = "\(connecting ? "connect" : "rpc"): \(error)"
        state.withLock {
            if connecting { $0.connect += 1 } else { $0.rpc += 1 }
            if $0.counts[message] == nil { $0.messages.append(message) }
            $0.counts[message, default: 0] += 1
        }
    }

    func summary() -> (connect: Int, rpc: Int, distinct: [(String, Int)]) {
        state.withLock { state in
            (state.connect, state.rpc, state.messages.map { ($0, state.counts[$0]!) })
        }
    }
}
