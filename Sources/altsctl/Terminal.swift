#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure the CLI detects itself (as opposed to an `IdentityError`).
struct CLIFailure: Error {
    let message: String
}

enum Terminal {
    static func fail(_ message: String) -> Never {
        let line = Array("altsctl: error: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        exit(1)
    }
}
