import ALTSTestSupport
import Foundation

/// A throwaway project with `alts-server` and `alts-client` accounts made by the real
/// `altsctl`, and the real `server` listening on 127.0.0.1.
final class HelloWorldFixture: @unchecked Sendable {
    let directory: String
    let project: String
    let altsctl: String
    let serverBinary: String
    let clientBinary: String
    private(set) var server: BackgroundProcess?
    private(set) var port = 0

    var serverAccount: String { "alts-server@\(project).iam.gserviceaccount.com" }
    var clientAccount: String { "alts-client@\(project).iam.gserviceaccount.com" }
    var serverCredentials: String { directory + "/alts-server" }
    var clientCredentials: String { directory + "/alts-client" }

    init(project: String = "hello-\(Int.random(in: 1000...9999))") throws {
        self.project = project
        directory = try makeScratchDirectory(prefix: "swift-alts-e2e")
        altsctl = try BuiltBinary.locate("altsctl")
        serverBinary = try BuiltBinary.locate("server")
        clientBinary = try BuiltBinary.locate("client")
        try run(altsctl, "projects", "create", project, "--dir", directory + "/projects")
        for name in ["alts-server", "alts-client"] {
            try run(altsctl, "service-accounts", "create", name, "--project", project, "--dir", directory + "/projects", "--out", directory + "/" + name)
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    func run(_ executable: String, _ arguments: String...) throws -> ProcessResult {
        let result = try Subprocess.run(executable, arguments)
        guard result.status == 0 else { throw FixtureError(description: "\(executable) \(arguments) failed: \(result.stderr)") }
        return result
    }

    /// Starts `server --port 0` and learns its port from its "listening on" line.
    func startServer(extraArguments: [String] = []) async throws {
        let server = try BackgroundProcess(serverBinary, ["--port", "0", "--bind", "127.0.0.1", "--credentials", serverCredentials] + extraArguments)
        self.server = server
        let line = try await server.waitForLine { $0.contains(" listening on ") }
        guard let portText = line.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") })?.split(separator: ":").last,
              let port = Int(portText) else {
            throw FixtureError(description: "no port in '\(line)'")
        }
        self.port = port
    }

    func client(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
        try Subprocess.run(clientBinary, arguments, environment: environment)
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }
}

/// `YYYY/MM/DD HH:MM:SS ` followed by `rest`, as Go's log package prints it.
func isGoLogLine(_ line: String, _ rest: String) -> Bool {
    let pattern = #"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} "#
    guard let range = line.range(of: pattern, options: .regularExpression) else { return false }
    return line[range.upperBound...] == rest
}
