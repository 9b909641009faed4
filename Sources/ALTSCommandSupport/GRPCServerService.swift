import GRPCCore
import ServiceLifecycle

/// Runs a gRPC server as a swift-service-lifecycle service, so SIGTERM and SIGINT drain it:
/// it stops accepting, lets in-flight RPCs finish, then returns.
public struct GRPCServerService<Transport: ServerTransport>: Service {
    private let server: GRPCServer<Transport>

    public init(server: GRPCServer<Transport>) {
        self.server = server
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
