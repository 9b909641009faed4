import NIOPosix

/// Runs `body` with its own event loop group, shut down afterwards whatever happens.
public func withEventLoopGroup<T>(threads: Int = 1, _ body: (MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    do {
        let value = try await body(group)
        try await group.shutdownGracefully()
        return value
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}
