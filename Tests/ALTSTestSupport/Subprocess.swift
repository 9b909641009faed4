import Foundation

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastEmpty() }
    public var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastEmpty() }
}

private extension Array where Element == String {
    func dropLastEmpty() -> [String] {
        last == "" ? Array(dropLast()) : self
    }
}

public enum Subprocess {
    public static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory {
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        // Files rather than pipes: no deadlock however much either stream prints.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("alts-subprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8)
        )
    }
}

/// Finds an executable built alongside the running test product (`altsctl`, `server`,
/// `client`…).
///
/// SwiftPM puts executables and the test product in the same products directory whatever
/// `--scratch-path` is, so search from where this test binary runs rather than from a
/// hard-coded `.build` path.
public enum BuiltBinary {
    public struct NotFound: Error, CustomStringConvertible {
        let name: String
        let searched: [String]
        public var description: String {
            "\(name) was not found next to the test product; searched: \(searched.joined(separator: ", "))"
        }
    }

    public static func locate(_ name: String) throws -> String {
        var directories: [URL] = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL {
            directories.append(executable.deletingLastPathComponent())
        }
        directories.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        // On macOS the tests run inside PRODUCTS/X.xctest; the products directory is its parent.
        directories.append(Bundle(for: Marker.self).bundleURL.deletingLastPathComponent())
        for directory in directories {
            let binary = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: binary) {
                return binary
            }
        }
        throw NotFound(name: name, searched: directories.map(\.path))
    }

    private final class Marker {}
}
