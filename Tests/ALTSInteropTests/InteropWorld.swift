import ALTSTestSupport
import Foundation
import Testing

/// One test's little world of "hosts" on loopback, as docs/INTEROP.md describes: a throwaway
/// project with three service accounts made by the real `altsctl`, and for each host its own
/// address 127.0.N.x with its own swift-alts `handshaker` on port 8080 holding that host's
/// account. Stock grpcio and grpc-go peers run under interop/ns-run.sh so they believe they
/// are on Google Cloud and find their host's handshaker as metadata.google.internal.
///
/// Every process started here is stopped by `stopAll()` (call it from `defer`), which also
/// runs when the world is released.
final class InteropWorld: @unchecked Sendable {
    let directory: String
    let project: String
    let altsctl: String
    let handshakerBinary: String
    let serverBinary: String
    let clientBinary: String
    private var processes: [(name: String, process: BackgroundProcess)] = []
    private let lock = NSLock()

    var serverAccount: String { account("alts-server") }
    var clientAccount: String { account("alts-client") }
    /// An account that exists in the project but that no server runs as: the wrong target.
    var otherAccount: String { account("alts-billing") }

    init() throws {
        project = "interop-\(Int.random(in: 10_000...99_999))"
        directory = try makeScratchDirectory(prefix: "swift-alts-interop")
        altsctl = try BuiltBinary.locate("altsctl")
        handshakerBinary = try BuiltBinary.locate("handshaker")
        serverBinary = try BuiltBinary.locate("server")
        clientBinary = try BuiltBinary.locate("client")
        try mustRun(altsctl, ["projects", "create", project, "--dir", directory + "/projects"])
        for name in ["alts-server", "alts-client", "alts-billing"] {
            try mustRun(altsctl, [
                "service-accounts", "create", name, "--project", project, "--dir", directory + "/projects", "--out", directory + "/" + name,
            ])
        }
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func account(_ name: String) -> String { "\(name)@\(project).iam.gserviceaccount.com" }

    // MARK: Hosts

    struct Host {
        let ip: String
        let account: String
        let handshaker: BackgroundProcess
        var handshakerAddress: String { "\(ip):8080" }
    }

    /// Third octet of this test run's addresses, so concurrent runs on one machine do not meet.
    private static let subnet = Int.random(in: 16...250)
    private static let nextAddress = NSLock()
    nonisolated(unsafe) private static var lastHost = 1

    private static func allocateAddress() -> String {
        nextAddress.withLock {
            lastHost = lastHost >= 254 ? 2 : lastHost + 1
            return "127.0.\(subnet).\(lastHost)"
        }
    }

    /// A new host running as `name` (e.g. "alts-server"): its address and its handshaker.
    func host(as name: String) async throws -> Host {
        let ip = Self.allocateAddress()
        let handshaker = try start("handshaker \(ip) (\(name))", handshakerBinary, [
            "--listen", "\(ip):8080", "--credentials", directory + "/" + name,
        ])
        _ = try await handshaker.waitForLine { $0.contains("handshaker listening on") }
        return Host(ip: ip, account: account(name), handshaker: handshaker)
    }

    // MARK: Processes

    /// Starts a tracked background process.
    func start(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> BackgroundProcess {
        let process = try BackgroundProcess(executable, arguments, environment: environment)
        lock.withLock { processes.append((name, process)) }
        return process
    }

    /// Starts a tracked background process that is not ours (Envoy, a Python app) through
    /// interop/default-signals.sh: children of a Swift test inherit a mask that blocks SIGTERM.
    func startForeign(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> BackgroundProcess {
        try start(name, Interop.directory + "/default-signals.sh", [executable] + arguments, environment: environment)
    }

    /// Starts a stock grpcio/grpc-go peer on `host`, in its private mount namespace (ns-run.sh
    /// also resets the signal mask).
    func startStock(_ name: String, on host: Host, _ command: [String]) throws -> BackgroundProcess {
        try start(name, Interop.nsRun, [host.ip, host.ip, "--"] + command, environment: Self.stockEnvironment)
    }

    struct TimedResult {
        let result: ProcessResult
        let elapsed: Duration
        var status: Int32 { result.status }
        var stdout: String { result.stdout }
        var stderr: String { result.stderr }
    }

    /// Runs a command to completion and times it.
    func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> TimedResult {
        let started = ContinuousClock.now
        let result = try Subprocess.run(executable, arguments, environment: environment)
        return TimedResult(result: result, elapsed: ContinuousClock.now - started)
    }

    /// Runs a stock client on `host`, in its private mount namespace.
    func runStock(on host: Host, _ command: [String]) throws -> TimedResult {
        try run(Interop.nsRun, [host.ip, host.ip, "--"] + command, environment: Self.stockEnvironment)
    }

    /// No __pycache__ in interop/python; unbuffered output so logs arrive as they happen.
    static let stockEnvironment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        return environment
    }()

    /// SIGTERM to everything still running, SIGKILL to whatever has not exited 3 s later.
    func stopAll() {
        let all = lock.withLock {
            defer { processes = [] }
            return processes
        }
        for (_, background) in all where background.process.isRunning {
            kill(background.process.processIdentifier, SIGTERM)
        }
        let deadline = ContinuousClock.now + .seconds(3)
        for (_, background) in all {
            while background.process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            if background.process.isRunning {
                kill(background.process.processIdentifier, SIGKILL)
                background.process.waitUntilExit()
            }
        }
    }

    /// Every tracked process's stderr, for failure messages.
    var logs: String {
        lock.withLock { processes }.map { "--- \($0.name) ---\n\($0.process.stderr)" }.joined(separator: "\n")
    }

    // MARK: Servers

    /// Waits for `listening on IP:PORT` and returns PORT.
    func listeningPort(_ server: BackgroundProcess, ip: String) async throws -> Int {
        let line = try await server.waitForLine(timeout: .seconds(30)) { $0.contains("listening on \(ip):") }
        let tail = line.components(separatedBy: "listening on \(ip):")[1]
        guard let port = Int(tail.prefix(while: \.isNumber)) else { throw MissingDependency(description: "no port in '\(line)'") }
        return port
    }

    /// swift-alts' `server`, its handshakes done by its host's handshaker.
    func startSwiftServer(on host: Host) async throws -> (process: BackgroundProcess, address: String) {
        let server = try start("swift server \(host.ip)", serverBinary, [
            "--port", "0", "--bind", host.ip, "--handshakerService", host.handshakerAddress,
        ])
        return (server, "\(host.ip):\(try await listeningPort(server, ip: host.ip))")
    }

    /// interop/python/server.py: grpcio with grpc.alts_server_credentials().
    func startGrpcioServer(on host: Host) async throws -> (process: BackgroundProcess, address: String) {
        let python = try Dependencies.python.require()
        let server = try startStock("grpcio server \(host.ip)", on: host, [
            python.executable, Interop.directory + "/python/server.py", "--bind", host.ip, "--port", "0",
        ])
        return (server, "\(host.ip):\(try await listeningPort(server, ip: host.ip))")
    }

    /// interop/go/server: grpc-go with alts.NewServerCreds.
    func startGoServer(on host: Host) async throws -> (process: BackgroundProcess, address: String) {
        let go = try GoPeers.built()
        let server = try startStock("grpc-go server \(host.ip)", on: host, [
            go.server, "--bind", host.ip, "--port", "0", "--handshakerService", host.handshakerAddress,
        ])
        return (server, "\(host.ip):\(try await listeningPort(server, ip: host.ip))")
    }

    // MARK: Clients

    /// swift-alts' `client` (its host's handshaker does the handshake). Deadline 10 s.
    func runSwiftClient(on host: Host, to address: String, target: String) throws -> TimedResult {
        try run(clientBinary, [
            "--addr", address, "--targetServiceAccount", target, "--handshakerService", host.handshakerAddress, "--timeout", "10s",
        ])
    }

    /// interop/python/client.py: grpcio with grpc.alts_channel_credentials. Deadline 10 s.
    func runGrpcioClient(on host: Host, to address: String, target: String) throws -> TimedResult {
        let python = try Dependencies.python.require()
        return try runStock(on: host, [
            python.executable, Interop.directory + "/python/client.py", "--addr", address, "--target", target, "--timeout", "10",
        ])
    }

    /// interop/go/client: grpc-go with alts.NewClientCreds. Deadline 10 s.
    func runGoClient(on host: Host, to address: String, target: String) throws -> TimedResult {
        let go = try GoPeers.built()
        return try runStock(on: host, [
            go.client, "--addr", address, "--targetServiceAccount", target, "--handshakerService", host.handshakerAddress, "--timeout", "10s",
        ])
    }

    private func mustRun(_ executable: String, _ arguments: [String]) throws {
        let result = try Subprocess.run(executable, arguments)
        guard result.status == 0 else {
            throw MissingDependency(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}

// MARK: - What the tests look for

/// `YYYY/MM/DD HH:MM:SS ` followed by exactly `rest`, as Go's log package prints it.
func isGoLogLine(_ line: String, _ rest: String) -> Bool {
    let pattern = #"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} "#
    guard let range = line.range(of: pattern, options: .regularExpression) else { return false }
    return line[range.upperBound...] == rest
}

/// Lines of `text` that are Go log lines `AuthInfo PeerServiceAccount: …` / `AuthInfo
/// LocalServiceAccount: …` with exactly these accounts — what swift-alts' server and client,
/// the grpc-go peers and the grpcio server print per RPC.
func hasAuthInfo(_ lines: [String], peer: String, local: String) -> Bool {
    lines.contains { isGoLogLine($0, "AuthInfo PeerServiceAccount: \(peer)") }
        && lines.contains { isGoLogLine($0, "AuthInfo LocalServiceAccount: \(local)") }
}

func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

extension InteropWorld.Host {
    /// Waits for this host's handshaker to log a successful handshake in `role` with `peer`.
    func handshakeSucceeded(role: String, peer: String) async throws -> String {
        let wanted = " local=\(account) peer=\(peer) role=\(role)"
        return try await handshaker.waitForLine(timeout: .seconds(5)) { $0.contains("handshake ok ") && $0.hasSuffix(wanted) }
    }
}
