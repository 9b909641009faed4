import ALTSEchoProto
import ALTSGRPC
import ALTSHandshake
import ALTSIdentity
import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2Posix
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
    /// Runs `body` on Swift concurrency and blocks this (non-event-loop) thread until it is
    /// done: the root `alts-bench` command is synchronous, so its subcommands cannot be async.
    static func runBlocking<T: Sendable>(on group: any EventLoopGroup, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        try group.any().makeFutureWithTask(body).wait()
    }
}
