import ALTSEchoProto
import ALTSGRPC
import ALTSHandshake
import ALTSIdentity
import ALTSNIO
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// What protects the one gRPC connection. The server code, the client code and the HTTP/2
/// stack are the same for all three; only the transport underneath changes.
enum GRPCBenchSecurity: String, CaseIterable, ExpressibleByArgument, Sendable {
    case alts
    case plaintext
    /// TLS 1.3 through NIOSSL, with a client certificate that the server requires.
    case mtls
}

/// Where bench/grpc.sh keeps the key material each security needs.
struct GRPCBenchKeys: Sendable {
    /// ALTS: this end's credential directory (altsctl service-accounts create --out).
    var credentials: String?
    /// mTLS: a directory holding ca.pem, server.pem, server.key, client.pem and client.key.
    var tlsDirectory: String?

    func credentialStore(_ security: GRPCBenchSecurity) throws -> CredentialStore {
        guard let credentials else { throw ValidationError("--security \(security.rawValue) needs --credentials") }
        return try CredentialStore(directory: credentials)
    }

    func tlsFile(_ name: String, _ security: GRPCBenchSecurity) throws -> String {
        guard let tlsDirectory else { throw ValidationError("--security \(security.rawValue) needs --tls-dir") }
        return tlsDirectory + "/" + name
    }

    func pem(_ name: String, _ security: GRPCBenchSecurity) throws -> TLSConfig.CertificateSource {
        .file(path: try tlsFile(name, security), format: .pem)
    }

    func key(_ name: String, _ security: GRPCBenchSecurity) throws -> TLSConfig.PrivateKeySource {
        .file(path: try tlsFile(name, security), format: .pem)
    }
}

/// What every client of grpc-server is told: where the server is, the ALTS end's keys, what to
/// send, and its event-loop threads.
struct GRPCBenchTarget: ParsableArguments {
    @Option(help: "Server port on 127.0.0.1.")
    var port: Int

    @Option(help: "ALTS: the client's credential directory.")
    var credentials: String?

    @Option(help: "ALTS: the service account the server must prove it is (NAME@PROJECT.iam.gserviceaccount.com).")
    var serverAccount: String?

    @Option(help: "The EchoRequest message.")
    var message = "hello world"

    @Option(help: "Event-loop threads.")
    var threads = System.coreCount
}

/// Unary echo without the logging of ALTSEchoService's EchoService, which would cost more than
/// the RPC itself. It answers the same way over every security, so none does less work.
struct GRPCBenchEchoService: Grpc_Examples_Echo_Echo.SimpleServiceProtocol {
    let served: GRPCBenchCounter

    func unaryEcho(request: Grpc_Examples_Echo_EchoRequest, context: ServerContext) async throws -> Grpc_Examples_Echo_EchoResponse {
        served.count.add(1, ordering: .relaxed)
        var response = Grpc_Examples_Echo_EchoResponse()
        response.message = request.message
        return response
    }

    func serverStreamingEcho(
        request: Grpc_Examples_Echo_EchoRequest, response: RPCWriter<Grpc_Examples_Echo_EchoResponse>, context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "the benchmark serves unary echo only")
    }

    func clientStreamingEcho(
        request: RPCAsyncSequence<Grpc_Examples_Echo_EchoRequest, any Error>, context: ServerContext
    ) async throws -> Grpc_Examples_Echo_EchoResponse {
        throw RPCError(code: .unimplemented, message: "the benchmark serves unary echo only")
    }

    func bidirectionalStreamingEcho(
        request: RPCAsyncSequence<Grpc_Examples_Echo_EchoRequest, any Error>,
        response: RPCWriter<Grpc_Examples_Echo_EchoResponse>, context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "the benchmark serves unary echo only")
    }
}

final class GRPCBenchCounter: Sendable {
    let count = Atomic<Int>(0)
}

enum GRPCBench {
    /// Above any latency a loopback RPC or handshake could have; a longer one is recorded as this.
    static let highestMicroseconds: UInt64 = 60_000_000

    /// Runs `body` on Swift concurrency and blocks this (non-event-loop) thread until it is
    /// done: the root `alts-bench` command is synchronous, so its subcommands cannot be async.
    static func runBlocking<T: Sendable>(on group: any EventLoopGroup, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        try group.any().makeFutureWithTask(body).wait()
    }

    /// The client's handshakers: in process, requiring the server to be `serverAccount` when given.
    static func altsClientHandshakers(_ keys: GRPCBenchKeys, serverAccount: String?) throws -> ALTSHandshakerFactory {
        var options = ALTSHandshakeOptions()
        if let serverAccount { options.targetServiceAccounts = [serverAccount] }
        return .inProcess(credentials: try keys.credentialStore(.alts), options: options)
    }

    /// One ALTS connection to grpc-server on 127.0.0.1; returns once the handshake is done.
    static func connectALTS(port: Int, handshakers: ALTSHandshakerFactory, group: any EventLoopGroup) async throws -> ALTSClientTransport {
        try await ALTSClientTransport.connect(to: .host("127.0.0.1", port: port), handshakers: handshakers, eventLoopGroup: group)
    }

    /// One plaintext TCP connection to grpc-server on 127.0.0.1 under `WrappedChannel`, the
    /// client stack ALTSClientTransport is built on; returns once TCP is connected.
    static func connectPlaintextWrapped(port: Int, group: any EventLoopGroup) async throws -> HTTP2ClientTransport.WrappedChannel {
        try await HTTP2ClientTransport.WrappedChannel.wrapping { configure in
            try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port) { channel in configure(channel) }
        }
    }

    static func echoRequest(_ message: String) -> Grpc_Examples_Echo_EchoRequest {
        var request = Grpc_Examples_Echo_EchoRequest()
        request.message = message
        return request
    }

    /// Whole microseconds in `duration`.
    static func microseconds(_ duration: Duration) -> UInt64 {
        let parts = duration.components
        return UInt64(parts.seconds) * 1_000_000 + UInt64(parts.attoseconds / 1_000_000_000_000)
    }

    /// User + system CPU time of this whole process so far. With the server's, divided by the
    /// RPCs completed, it gives CPU per RPC, which other load on the machine moves less than QPS.
    static func processCPUMilliseconds() -> Int {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return -1 }
        let micros = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
        return Int(micros / 1000)
    }
}

/// Latencies in microseconds, shared by many tasks: a per-task histogram of this range is
/// ~300 KB, and many of them would crowd the caches, while an uncontended lock costs tens of
/// nanoseconds per RPC of tens of µs.
final class GRPCBenchLatencyRecorder: Sendable {
    let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: GRPCBench.highestMicroseconds, numberOfSignificantValueDigits: .three))
    let completed = Atomic<Int>(0)

    func record(_ duration: Duration) {
        let microseconds = min(GRPCBench.microseconds(duration), GRPCBench.highestMicroseconds)
        histogram.withLock { _ = $0.record(microseconds) }
    }

    var snapshot: Histogram<UInt64> { histogram.withLock { $0 } }
}
