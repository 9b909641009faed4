import ALTSEchoProto
import GRPCCore

/// `grpc.examples.echo.Echo`, as grpc-go's examples define it. Every RPC logs the
/// connection's peer and local service accounts.
public struct EchoService: Grpc_Examples_Echo_Echo.SimpleServiceProtocol {
    public init() {}

    public func unaryEcho(request: Grpc_Examples_Echo_EchoRequest, context: ServerContext) async throws -> Grpc_Examples_Echo_EchoResponse {
        _ = try AuthInfoLog.logAndRequire(context)
        return .with { $0.message = request.message }
    }

    public func serverStreamingEcho(
        request: Grpc_Examples_Echo_EchoRequest, response: RPCWriter<Grpc_Examples_Echo_EchoResponse>, context: ServerContext
    ) async throws {
        _ = try AuthInfoLog.logAndRequire(context)
        for _ in 0..<EchoBehaviour.serverStreamingCount {
            try await response.write(.with { $0.message = request.message })
        }
    }

    public func clientStreamingEcho(
        request: RPCAsyncSequence<Grpc_Examples_Echo_EchoRequest, any Error>, context: ServerContext
    ) async throws -> Grpc_Examples_Echo_EchoResponse {
        _ = try AuthInfoLog.logAndRequire(context)
        var messages: [String] = []
        for try await part in request { messages.append(part.message) }
        return .with { $0.message = EchoBehaviour.clientStreamingAnswer(messages) }
    }

    public func bidirectionalStreamingEcho(
        request: RPCAsyncSequence<Grpc_Examples_Echo_EchoRequest, any Error>,
        response: RPCWriter<Grpc_Examples_Echo_EchoResponse>, context: ServerContext
    ) async throws {
        _ = try AuthInfoLog.logAndRequire(context)
        for try await part in request {
            try await response.write(.with { $0.message = part.message })
        }
    }
}

/// The same service under the 2020 seed's older proto package `echo` (`/echo.Echo/...`), so the
/// seed's original Go client can call us too.
public struct LegacyEchoService: Echo_Echo.SimpleServiceProtocol {
    public init() {}

    public func unaryEcho(request: Echo_EchoRequest, context: ServerContext) async throws -> Echo_EchoResponse {
        _ = try AuthInfoLog.logAndRequire(context)
        return .with { $0.message = request.message }
    }

    public func serverStreamingEcho(
        request: Echo_EchoRequest, response: RPCWriter<Echo_EchoResponse>, context: ServerContext
    ) async throws {
        _ = try AuthInfoLog.logAndRequire(context)
        for _ in 0..<EchoBehaviour.serverStreamingCount {
            try await response.write(.with { $0.message = request.message })
        }
    }

    public func clientStreamingEcho(
        request: RPCAsyncSequence<Echo_EchoRequest, any Error>, context: ServerContext
    ) async throws -> Echo_EchoResponse {
        _ = try AuthInfoLog.logAndRequire(context)
        var messages: [String] = []
        for try await part in request { messages.append(part.message) }
        return .with { $0.message = EchoBehaviour.clientStreamingAnswer(messages) }
    }

    public func bidirectionalStreamingEcho(
        request: RPCAsyncSequence<Echo_EchoRequest, any Error>, response: RPCWriter<Echo_EchoResponse>, context: ServerContext
    ) async throws {
        _ = try AuthInfoLog.logAndRequire(context)
        for try await part in request {
            try await response.write(.with { $0.message = part.message })
        }
    }
}
