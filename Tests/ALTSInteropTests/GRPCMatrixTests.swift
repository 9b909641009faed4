import Testing

extension InteropTests {
    /// Each cell: a client on one host calls UnaryEcho on a server on another; each host has
    /// its own handshaker; both sides must name the other's exact service account.
    @Suite("gRPC matrix: stock grpcio and grpc-go against swift-alts and each other")
    struct GRPCMatrix {
        @Test("grpcio client → swift-alts server", .enabled(if: Dependencies.grpcio, "needs root, unshare, python3 with grpcio and grpcio-tools (interop/install-deps.sh)"))
        func grpcioClientSwiftServer() async throws {
            try await echoCell(client: .grpcio, server: .swift)
        }

        @Test("swift-alts client → grpcio server (auth_context() names the client)", .enabled(if: Dependencies.grpcio, "needs root, unshare, python3 with grpcio and grpcio-tools (interop/install-deps.sh)"))
        func swiftClientGrpcioServer() async throws {
            try await echoCell(client: .swift, server: .grpcio)
        }

        @Test("grpc-go client → swift-alts server", .enabled(if: Dependencies.go, "needs root, unshare, Debian golang-go and golang-google-grpc-dev (interop/install-deps.sh)"))
        func goClientSwiftServer() async throws {
            try await echoCell(client: .grpcGo, server: .swift)
        }

        @Test("swift-alts client → grpc-go server", .enabled(if: Dependencies.go, "needs root, unshare, Debian golang-go and golang-google-grpc-dev (interop/install-deps.sh)"))
        func swiftClientGoServer() async throws {
            try await echoCell(client: .swift, server: .grpcGo)
        }

        @Test("grpcio client → grpc-go server, through our handshakers", .enabled(if: Dependencies.grpcio && Dependencies.go, "needs grpcio and grpc-go (interop/install-deps.sh)"))
        func grpcioClientGoServer() async throws {
            try await echoCell(client: .grpcio, server: .grpcGo)
        }

        @Test("grpc-go client → grpcio server, through our handshakers", .enabled(if: Dependencies.grpcio && Dependencies.go, "needs grpcio and grpc-go (interop/install-deps.sh)"))
        func goClientGrpcioServer() async throws {
            try await echoCell(client: .grpcGo, server: .grpcio)
        }
    }

    /// A client whose target service account is not the server's fails: at once, not at its
    /// 10 s deadline, with the reason where the stack shows it; the server side ends too and
    /// goes on serving.
    @Suite("Wrong target: a failed handshake ends both sides promptly")
    struct WrongTarget {
        @Test("grpcio client, wrong target → swift-alts server: our status details in its error, within 2 s", .enabled(if: Dependencies.grpcio, "needs root, unshare, python3 with grpcio and grpcio-tools (interop/install-deps.sh)"))
        func grpcioClientSwiftServer() async throws {
            try await wrongTargetCell(client: .grpcio, server: .swift)
        }

        @Test("grpcio client, wrong target → grpc-go server: within 2 s", .enabled(if: Dependencies.grpcio && Dependencies.go, "needs grpcio and grpc-go (interop/install-deps.sh)"))
        func grpcioClientGoServer() async throws {
            try await wrongTargetCell(client: .grpcio, server: .grpcGo)
        }

        @Test("grpc-go client, wrong target → swift-alts server: within 2 s, not at its deadline", .enabled(if: Dependencies.go, "needs root, unshare, Debian golang-go and golang-google-grpc-dev (interop/install-deps.sh)"))
        func goClientSwiftServer() async throws {
            try await wrongTargetCell(client: .grpcGo, server: .swift)
        }

        @Test("grpc-go client, wrong target → grpcio server: within 2 s", .enabled(if: Dependencies.grpcio && Dependencies.go, "needs grpcio and grpc-go (interop/install-deps.sh)"))
        func goClientGrpcioServer() async throws {
            try await wrongTargetCell(client: .grpcGo, server: .grpcio)
        }

        @Test("swift-alts client, wrong target → grpcio server: within 2 s", .enabled(if: Dependencies.grpcio, "needs root, unshare, python3 with grpcio and grpcio-tools (interop/install-deps.sh)"))
        func swiftClientGrpcioServer() async throws {
            try await wrongTargetCell(client: .swift, server: .grpcio)
        }

        @Test("swift-alts client, wrong target → grpc-go server: within 2 s", .enabled(if: Dependencies.go, "needs root, unshare, Debian golang-go and golang-google-grpc-dev (interop/install-deps.sh)"))
        func swiftClientGoServer() async throws {
            try await wrongTargetCell(client: .swift, server: .grpcGo)
        }
    }
}
