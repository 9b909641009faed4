import ALTSTestSupport
import Foundation

/// The `server` and `handshaker` binaries as an operator runs them, on port 0, with the port
/// read back from their "listening on" lines.
enum ServiceBinaries {
    struct NoPort: Error, CustomStringConvertible {
        let description: String
    }

    static func startServer(credentials: String, arguments: [String] = []) async throws -> (process: BackgroundProcess, port: Int) {
        let process = try BackgroundProcess(
            try BuiltBinary.locate("server"), ["--port", "0", "--bind", "127.0.0.1", "--credentials", credentials] + arguments)
        let line = try await process.waitForLine(timeout: .seconds(30)) { $0.contains(" listening on ") }
        return (process, try port(after: "listening on ", in: line))
    }

    /// `listen` is HOST:PORT; port 0 picks a free one.
    static func startHandshaker(
        listen: String = "127.0.0.1:0", credentials: String, arguments: [String] = []
    ) async throws -> (process: BackgroundProcess, port: Int) {
        let process = try BackgroundProcess(try BuiltBinary.locate("handshaker"), ["--listen", listen, "--credentials", credentials] + arguments)
        let line = try await process.waitForLine(timeout: .seconds(30)) { $0.contains("handshaker listening on ") }
        return (process, try port(after: "listening on ", in: line))
    }

    /// The port of the `HOST:PORT` token that follows `marker`.
    static func port(after marker: String, in line: String) throws -> Int {
        guard let range = line.range(of: marker),
              let token = line[range.upperBound...].split(separator: " ").first,
              let port = token.split(separator: ":").last.flatMap({ Int($0) })
        else { throw NoPort(description: "no port after '\(marker)' in '\(line)'") }
        return port
    }

    /// Alive and not a zombie: signal 0 reaches it and Foundation has not reaped it.
    static func isAlive(_ process: BackgroundProcess) -> Bool {
        process.process.isRunning && kill(process.process.processIdentifier, 0) == 0
    }
}
