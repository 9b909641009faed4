import ALTSIdentity
import Foundation
import XCTest

final class CLIProjectsTests: CLITestCase {
    func testCreateProjectWritesAValidRoot() throws {
        let started = Date()
        let output = try succeed("projects", "create", "proj-a", "--dir", projectsDirectory)
        let root = try ProjectRoot.load(path: projectsDirectory + "/proj-a/ca.pem")
        XCTAssertEqual(root.project, "proj-a")
        XCTAssertEqual(output, [
            "Created project proj-a",
            "Root certificate: \(projectsDirectory)/proj-a/ca.pem",
            "Root key: \(projectsDirectory)/proj-a/ca.key",
            "Not after: \(ISO8601Time.format(root.certificate.notValidAfter))",
        ])
        let tenYears = root.certificate.notValidAfter.timeIntervalSince(started)
        XCTAssertEqual(tenYears, 3652 * 86_400, accuracy: 120)
        XCTAssertEqual(try fileMode(projectsDirectory + "/proj-a/ca.key"), 0o600)

        let text = try openssl("x509", "-text", "-noout", "-in", projectsDirectory + "/proj-a/ca.pem")
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("Subject: CN = swift-alts project proj-a"), text.stdout)
        XCTAssertTrue(text.stdout.contains("CA:TRUE, pathlen:0"), text.stdout)
        XCTAssertTrue(text.stdout.contains("Certificate Sign, CRL Sign"), text.stdout)
        XCTAssertTrue(text.stdout.contains("URI:spiffe://proj-a"), text.stdout)
        XCTAssertTrue(text.stdout.contains("ecdsa-with-SHA256"), text.stdout)
        let key = try openssl("pkey", "-in", projectsDirectory + "/proj-a/ca.key", "-noout", "-text")
        XCTAssertEqual(key.status, 0, key.stderr)
        XCTAssertTrue(key.stdout.contains("NIST CURVE: P-256"), key.stdout)
    }

    func testExistingProjectIsNotOverwritten() throws {
        try succeed("projects", "create", "proj-a", "--dir", projectsDirectory)
        let key = try readFile(projectsDirectory + "/proj-a/ca.key")
        let again = try altsctl("projects", "create", "proj-a", "--dir", projectsDirectory)
        assertFails(again, with: "\(projectsDirectory)/proj-a already exists; refusing to overwrite it")
        XCTAssertEqual(again.stdout, "")
        XCTAssertEqual(try readFile(projectsDirectory + "/proj-a/ca.key"), key)
    }

    func testInvalidProjectIDIsRejected() throws {
        let result = try altsctl("projects", "create", "Proj_A", "--dir", projectsDirectory)
        assertFails(result, with: "invalid project ID 'Proj_A': expected 1-63 characters of [a-z0-9-] starting with a letter")
        XCTAssertFalse(FileManager.default.fileExists(atPath: projectsDirectory + "/Proj_A"))
    }

    func testUsageErrorsFollowTheOneLineContract() throws {
        let result = try altsctl("projects", "create", "--dir", projectsDirectory)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("altsctl: error: Missing expected argument"), result.stderr)
    }
}
