import ALTSTestSupport
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// CI's fuzzing: every libFuzzer target of fuzz/ is built with AddressSanitizer and run for
/// its share of a minute from the committed seeds. Long runs are in docs/RELIABILITY.md.
///
/// XCTest rather than Swift Testing on purpose: `swift test` runs the XCTest cases one after
/// another before the Swift Testing suites start, so this build-and-fuzz minute never competes
/// for the CPU with the suites that time handshakes and connection floods.
final class FuzzSmokeTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let targets = ["FuzzRecordFrames", "FuzzHandshake", "FuzzHandshakerService", "FuzzEnvoyYAML", "FuzzProxyHTTP"]

    func testEveryTargetBuildsAndRunsFromItsSeedsWithoutACrash() throws {
        let scratch = try makeScratchDirectory(prefix: "fuzz-smoke")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // A debug build of the fuzz package takes half the time of a release one; a minute of
        // fuzzing is about the seeds and their neighbourhood, not speed.
        let configuration = ProcessInfo.processInfo.environment["FUZZ_CONFIGURATION"] ?? "debug"
        let status = try Self.runBlocking(
            "cd '\(Self.repositoryRoot)' && FUZZ_CONFIGURATION=\(configuration) exec bash fuzz/run.sh smoke 60 >'\(scratch)/out' 2>'\(scratch)/err'")
        let stdout = try String(contentsOfFile: scratch + "/out", encoding: .utf8)
        let stderr = try String(contentsOfFile: scratch + "/err", encoding: .utf8)
        XCTAssertEqual(status, 0, "fuzz/run.sh smoke failed:\n\(stderr.suffix(4_000))")
        let lines = stdout.split(separator: "\n").map(String.init)
        for target in Self.targets {
            let line = lines.first { $0.hasPrefix(target + " ") }
            let executions = line.flatMap { Self.field("executions", in: $0) }.flatMap(Int.init)
            XCTAssertGreaterThan(executions ?? 0, 0, "\(target) did not run: \(line ?? "no line")")
            XCTAssertEqual(line.flatMap { Self.field("crashes", in: $0) }, "0", "\(target): \(line ?? "no line")")
        }
    }

    /// posix_spawn and a blocking waitpid: a run of several minutes whose children crash on
    /// purpose is no place for Foundation's Process, whose exit detection we once saw miss a
    /// child that had already exited.
    static func runBlocking(_ script: String) throws -> Int32 {
        let arguments = ["/bin/bash", "-c", script]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import from <sys/wait.h>.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    static func field(_ name: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}
