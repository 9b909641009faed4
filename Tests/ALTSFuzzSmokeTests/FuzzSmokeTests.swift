import ALTSTestSupport
import Foundation
import Testing

/// CI's fuzzing: every libFuzzer target of fuzz/ is built with AddressSanitizer and run for
/// its share of a minute from the committed seeds. Long runs are in docs/RELIABILITY.md.
@Suite("Fuzz smoke run")
struct FuzzSmokeTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let targets = ["FuzzRecordFrames", "FuzzHandshake", "FuzzHandshakerService", "FuzzEnvoyYAML", "FuzzProxyHTTP"]

    @Test("every fuzz target builds with ASan and libFuzzer and runs 12 s from its seeds without a crash")
    func smoke() throws {
        var environment = ProcessInfo.processInfo.environment
        // A debug build of the fuzz package takes half the time of a release one; a minute of
        // fuzzing is about coverage of the seeds, not speed.
        environment["FUZZ_CONFIGURATION"] = environment["FUZZ_CONFIGURATION"] ?? "debug"
        let result = try Subprocess.run(
            "/bin/bash", [Self.repositoryRoot + "/fuzz/run.sh", "smoke", "60"], in: Self.repositoryRoot, environment: environment)
        #expect(result.status == 0, "fuzz/run.sh smoke failed:\n\(result.stderr.suffix(4_000))")
        for target in Self.targets {
            let line = result.stdoutLines.first { $0.hasPrefix(target + " ") }
            let executions = line.flatMap { Self.field("executions", in: $0) }.flatMap(Int.init)
            #expect((executions ?? 0) > 0, "\(target) did not run: \(line ?? "no line")")
            #expect(line.flatMap { Self.field("crashes", in: $0) } == "0", "\(target): \(line ?? "no line")")
        }
    }

    static func field(_ name: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}
