import Foundation

/// A long-running child process (a server) whose stderr is captured to a file, so tests can
/// wait for a line, read everything it logged, and stop it.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    private let stderrPath: String
    private let stdoutPath: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let scratch = try makeScratchDirectory(prefix: "swift-alts-process")
        stderrPath = scratch + "/stderr"
        stdoutPath = scratch + "/stdout"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    /// Waits until a stderr line satisfies `match`; returns it.
    public func waitForLine(timeout: Duration = .seconds(60), _ match: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stderrLines.first(where: match) { return line }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw WaitFailure(description: "no matching line within \(timeout); running=\(process.isRunning); stderr:\n\(stderr)")
    }

    /// Sends `signal` and waits for the exit status.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else {
            process.terminate()
            throw WaitFailure(description: "process did not exit within \(timeout) of signal \(signal)")
        }
        return process.terminationStatus
    }

    public struct WaitFailure: Error, CustomStringConvertible {
        public let description: String
    }
}
