import ALTSIdentity
import ALTSTestSupport
import Foundation
import XCTest

/// Runs the real `altsctl` and `openssl` binaries in a scratch directory.
class CLITestCase: XCTestCase {
    var workDirectory = ""
    var projectsDirectory: String { workDirectory + "/projects" }
    private var binary = ""

    override func setUpWithError() throws {
        binary = try BuiltBinary.locate("altsctl")
        workDirectory = try makeTemporaryDirectory()
    }

    func altsctl(_ arguments: String...) throws -> ProcessResult {
        try Subprocess.run(binary, arguments, in: workDirectory)
    }

    func openssl(_ arguments: String...) throws -> ProcessResult {
        try Subprocess.run("/usr/bin/openssl", arguments, in: workDirectory)
    }

    /// Runs `altsctl` expecting success with nothing on stderr.
    @discardableResult
    func succeed(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let result = try Subprocess.run(binary, arguments, in: workDirectory)
        XCTAssertEqual(result.status, 0, "altsctl \(arguments) failed: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr, "", file: file, line: line)
        return result.stdoutLines
    }

    /// Asserts the one-line error contract: exit 1, exactly one `altsctl: error:` line.
    func assertFails(
        _ result: ProcessResult,
        with message: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(result.status, 1, file: file, line: line)
        XCTAssertEqual(result.stderr, "altsctl: error: \(message)\n", file: file, line: line)
    }

    func credentialDirectory(_ name: String) -> String {
        workDirectory + "/" + name
    }
}
