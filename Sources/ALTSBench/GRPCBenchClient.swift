import ALTSEchoProto
import ALTSGRPC
import ALTSHandshake
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// The client half of bench/grpc.sh: one connection, `concurrency` RPCs always in flight.
struct GRPCClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-client",
        abstract: "Unary Echo QPS and latency against grpc-server over one connection.")

    @Option(help: "alts, plaintext or mtls; must match the server's.")
    var security: GRPCBenchSecurity

    @OptionGroup var target: GRPCBenchTarget

    @Option(help: "mTLS: directory with ca.pem, client.pem and client.key.")
    var tlsDir: String?

    @Option(help: "RPCs in flight at once, each in its own task issuing the next RPC as soon as one returns.")
    var concurrency = 64

    @Option(help: "Seconds to measure.")
    var seconds = 10.0

    @Option(help: "Seconds of unmeasured load first.")
    var warmup = 2.0

    @Flag(help: "mTLS: present no client certificate (with --probe, to check the server refuses such clients).")
    var omitClientCertificate = false

    @Flag(help: "Plaintext over HTTP2ClientTransport.WrappedChannel, the client stack ALTSClientTransport is built on, instead of HTTP2ClientTransport.Posix: separates the ALTS record layer's cost from the client transport's.")
    var wrappedChannel = false

    @Flag(help: "Make one RPC and print `probe=ok` or `probe=failed`; exit 0 only if it succeeded.")
    var probe = false

    func validate() throws {
        guard concurrency >= 1, seconds > 0, warmup >= 0 else {
            throw ValidationError("--concurrency and --seconds must be positive, --warmup not negative")
        }
        if omitClientCertificate && security != .mtls {
            throw ValidationError("--omit-client-certificate applies to --security mtls only")
        }
        if wrappedChannel && security != .plaintext {
            throw ValidationError("--wrapped-channel applies to --security plaintext only")
        }
    }

    func run() throws {
        let security = self.security
        let port = target.port
        let serverAccount = target.serverAccount
        let omitClientCertificate = self.omitClientCertificate
        let wrappedChannel = self.wrappedChannel
        let keys = GRPCBenchKeys(credentials: target.credentials, tlsDirectory: tlsDir)
        let load = GRPCLoad(concurrency: concurrency, seconds: seconds, warmup: warmup, message: target.message, probe: probe)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: target.threads)
        defer { try? group.syncShutdownGracefully() }

        let report = try GRPCBench.runBlocking(on: group) {
            switch security {
            case .alts:
                // Returns once the handshake is done, so the handshake is never in the timings.
                let transport = try await GRPCBench.connectALTS(
                    port: port, handshakers: try GRPCBench.altsClientHandshakers(keys, serverAccount: serverAccount), group: group)
                return try await load.run(over: transport)
            case .plaintext where wrappedChannel:
                let transport = try await GRPCBench.connectPlaintextWrapped(port: port, group: group)
                return try await load.run(over: transport)
            case .plaintext:
                let transport = try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext, eventLoopGroup: group)
                return try await load.run(over: transport)
            case .mtls:
                let serverRoots = TLSConfig.TrustRootsSource.certificates([try keys.pem("ca.pem", security)])
                let transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity
                if omitClientCertificate {
                    transportSecurity = .tls { $0.trustRoots = serverRoots }
                } else {
                    // Full verification, as a real client does: chain to ca.pem and name 127.0.0.1.
                    transportSecurity = .mTLS(
                        certificateChain: [try keys.pem("client.pem", security)], privateKey: try keys.key("client.key", security)
                    ) { $0.trustRoots = serverRoots }
                }
                let transport = try HTTP2ClientTransport.Posix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: transportSecurity, eventLoopGroup: group)
                return try await load.run(over: transport)
            }
        }

        switch report {
        case .probe(nil):
            print("probe=ok security=\(security.rawValue)")
        case .probe(let failure?):
            print("probe=failed security=\(security.rawValue) error=\(failure)")
            throw ExitCode.failure
        case .load(let histogram, let completed):
            let qps = Double(histogram.totalCount) / seconds
            print(
                "qps=\(Int(qps.rounded())) p50_us=\(histogram.valueAtPercentile(50)) p99_us=\(histogram.valueAtPercentile(99)) "
                    + "max_us=\(histogram.max) rpcs=\(histogram.totalCount) rpcs_all=\(completed) "
                    + "cpu_ms=\(GRPCBench.processCPUMilliseconds()) concurrency=\(concurrency) "
                    + "security=\(security.rawValue) seconds=\(seconds) threads=\(target.threads)")
        }
    }
}

enum GRPCLoadReport: Sendable {
    /// nil when the probe RPC succeeded, else why it failed.
    case probe(String?)
    /// Latency in microseconds of every RPC that completed inside the measured window, and
    /// how many completed in all, warm-up included.
    case load(Histogram<UInt64>, completed: Int)
}

struct GRPCLoad: Sendable {
    let concurrency: Int
    let seconds: Double
    let warmup: Double
    let message: String
    let probe: Bool

    func run<Transport: ClientTransport>(over transport: Transport) async throws -> GRPCLoadReport {
        let request = GRPCBench.echoRequest(message)
        let expected = message
        let load = self
        return try await withGRPCClient(transport: transport) { client in
            let echo = Grpc_Examples_Echo_Echo.Client(wrapping: client)
            if load.probe {
                return .probe(await load.probeOnce(echo, request, expected: expected))
            }
            let (histogram, completed) = try await load.measure(echo, request, expected: expected)
            return .load(histogram, completed: completed)
        }
    }

    private func probeOnce<Transport>(
        _ echo: Grpc_Examples_Echo_Echo.Client<Transport>, _ request: Grpc_Examples_Echo_EchoRequest, expected: String
    ) async -> String? {
        var options = CallOptions.defaults
        // Fail on the first refused connection rather than wait for one that will never work.
        options.waitForReady = false
        options.timeout = .seconds(10)
        do {
            let reply = try await echo.unaryEcho(request, options: options)
            return reply.message == expected ? nil : "the server echoed \(reply.message.debugDescription)"
        } catch {
            return "\(error)"
        }
    }

    /// Runs `concurrency` closed loops for warmup + seconds. Throughput and latency count the
    /// RPCs that complete inside the measured window, whenever they started, so the ramp-up
    /// and the drain at the end (RPCs still in flight at the deadline) are both left out.
    private func measure<Transport>(
        _ echo: Grpc_Examples_Echo_Echo.Client<Transport>, _ request: Grpc_Examples_Echo_EchoRequest, expected: String
    ) async throws -> (Histogram<UInt64>, Int) {
        let clock = ContinuousClock()
        let measureFrom = clock.now.advanced(by: .milliseconds(Int64(warmup * 1000)))
        let measureUntil = measureFrom.advanced(by: .milliseconds(Int64(seconds * 1000)))
        let latencies = GRPCBenchLatencyRecorder()
        try await withThrowingDiscardingTaskGroup { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while true {
                        let sent = clock.now
                        guard sent < measureUntil else { return }
                        let reply = try await echo.unaryEcho(request)
                        let received = clock.now
                        guard reply.message == expected else {
                            throw ValidationError("the server echoed \(reply.message.debugDescription)")
                        }
                        latencies.completed.add(1, ordering: .relaxed)
                        guard received >= measureFrom, received <= measureUntil else { continue }
                        latencies.record(sent.duration(to: received))
                    }
                }
            }
        }
        return (latencies.snapshot, latencies.completed.load(ordering: .relaxed))
    }
}
