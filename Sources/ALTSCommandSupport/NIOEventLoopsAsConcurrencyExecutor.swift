import NIOCore
import NIOPosix

/// Runs Swift Concurrency's jobs on NIO's singleton event loops instead of a separate thread
/// pool. The gRPC transports and our ALTS channels run on those loops, so a task resumed by a
/// channel event continues on the same thread rather than waking another: on 2 cores the
/// hand-offs between the two pools were most of a handshaker-service round trip's cost.
///
/// Call once, first thing in `main`, before any task is created, and only in a binary whose
/// async code never blocks its thread: a `future.wait()` there now runs on an event loop and
/// traps (NIO's precondition), as `alts-bench`'s synchronous subcommands showed. The
/// `handshaker` qualifies: its tasks serve gRPC streams and only read files briefly at start-up
/// and on credential reload.
public enum NIOEventLoopsAsConcurrencyExecutor {
    public static func install() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
