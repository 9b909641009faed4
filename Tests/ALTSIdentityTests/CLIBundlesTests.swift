import ALTSIdentity
import Foundation
import XCTest

final class CLIBundlesTests: CLITestCase {
    private var serverDir: String { credentialDirectory("server") }
    private var clientDir: String { credentialDirectory("client") }
    private var rootA: String { projectsDirectory + "/proj-a/ca.pem" }
    private var rootB: String { projectsDirectory + "/proj-b/ca.pem" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try succeed("projects", "create", "proj-a", "--dir", projectsDirectory)
        try succeed("projects", "create", "proj-b", "--dir", projectsDirectory)
        try succeed(
            "service-accounts", "create", "alts-server", "--project", "proj-a",
            "--dir", projectsDirectory, "--out", serverDir
        )
        try succeed(
            "service-accounts", "create", "alts-client", "--project", "proj-b",
            "--dir", projectsDirectory, "--out", clientDir
        )
    }

    private func listLine(_ path: String, project: String, issuer: Bool) throws -> String {
        let root = try ProjectRoot.load(path: path)
        let marker = issuer ? " (issuer of this credential)" : ""
        return "\(project)\(marker): not after \(ISO8601Time.format(root.certificate.notValidAfter)), SHA-256 \(root.fingerprintSHA256)"
    }

    func testFederateAndUnfederate() throws {
        let client = try ALTSCredential.load(directory: clientDir)
        XCTAssertIdentityError(.untrustedIssuer(issuer: "CN=swift-alts project proj-b")) {
            try ALTSCredential.load(directory: self.serverDir).trustBundle
                .verifyPeer(certificateDER: client.certificateDER, now: Date())
        }

        XCTAssertEqual(
            try succeed("bundles", "add", "--trust", rootB, "--dir", serverDir),
            ["Added project proj-b to the trust bundle: \(serverDir)/trust-bundle/proj-b.pem"]
        )
        XCTAssertEqual(
            try succeed("bundles", "add", "--trust", rootB, "--dir", serverDir),
            ["Project proj-b is already in the trust bundle: \(serverDir)/trust-bundle/proj-b.pem"]
        )
        XCTAssertEqual(try succeed("bundles", "list", "--dir", serverDir), [
            try listLine(rootA, project: "proj-a", issuer: true),
            try listLine(rootB, project: "proj-b", issuer: false),
        ])
        let peer = try ALTSCredential.load(directory: serverDir).trustBundle
            .verifyPeer(certificateDER: client.certificateDER, now: Date())
        XCTAssertEqual(peer.serviceAccount.email, "alts-client@proj-b.iam.gserviceaccount.com")

        XCTAssertEqual(
            try succeed("bundles", "remove", "--project", "proj-b", "--dir", serverDir),
            ["Removed project proj-b from the trust bundle: \(serverDir)/trust-bundle/proj-b.pem"]
        )
        XCTAssertEqual(try succeed("bundles", "list", "--dir", serverDir), [
            try listLine(rootA, project: "proj-a", issuer: true)
        ])
        XCTAssertIdentityError(.untrustedIssuer(issuer: "CN=swift-alts project proj-b")) {
            try ALTSCredential.load(directory: self.serverDir).trustBundle
                .verifyPeer(certificateDER: client.certificateDER, now: Date())
        }
    }

    func testRemoveByCertificate() throws {
        try succeed("bundles", "add", "--trust", rootB, "--dir", serverDir)
        XCTAssertEqual(
            try succeed("bundles", "remove", "--trust", rootB, "--dir", serverDir),
            ["Removed project proj-b from the trust bundle: \(serverDir)/trust-bundle/proj-b.pem"]
        )
        assertFails(
            try altsctl("bundles", "remove", "--trust", rootB, "--dir", serverDir),
            with: "project 'proj-b' is not in the trust bundle"
        )
    }

    func testRemoveByCertificateRefusesADifferentRootOfTheSameProject() throws {
        try succeed("bundles", "add", "--trust", rootB, "--dir", serverDir)
        let elsewhere = workDirectory + "/elsewhere"
        try succeed("projects", "create", "proj-b", "--dir", elsewhere)
        let impostor = elsewhere + "/proj-b/ca.pem"
        assertFails(
            try altsctl("bundles", "remove", "--trust", impostor, "--dir", serverDir),
            with: "\(serverDir)/trust-bundle/proj-b.pem holds a different root for project proj-b than \(impostor)"
        )
        XCTAssertTrue(FileManager.default.fileExists(atPath: serverDir + "/trust-bundle/proj-b.pem"))
    }

    func testIssuingProjectCannotBeRemoved() throws {
        assertFails(
            try altsctl("bundles", "remove", "--project", "proj-a", "--dir", serverDir),
            with: "refusing to remove project 'proj-a': it issued this credential's own certificate"
        )
        assertFails(
            try altsctl("bundles", "remove", "--trust", rootA, "--dir", serverDir),
            with: "refusing to remove project 'proj-a': it issued this credential's own certificate"
        )
        XCTAssertTrue(FileManager.default.fileExists(atPath: serverDir + "/trust-bundle/proj-a.pem"))
    }

    func testOnlyProjectRootsCanBeAdded() throws {
        assertFails(
            try altsctl("bundles", "add", "--trust", clientDir + "/service-account.pem", "--dir", serverDir),
            with: "not a swift-alts project root certificate: basicConstraints is not CA:true"
        )
        assertFails(
            try altsctl("bundles", "add", "--trust", clientDir + "/service-account.key", "--dir", serverDir),
            with: "\(clientDir)/service-account.key: not a valid PEM file"
        )
        assertFails(
            try altsctl("bundles", "add", "--trust", workDirectory + "/missing.pem", "--dir", serverDir),
            with: "\(workDirectory)/missing.pem: no such file"
        )
    }

    func testRemoveNeedsExactlyOneSelector() throws {
        let result = try altsctl("bundles", "remove", "--dir", serverDir)
        assertFails(result, with: "give exactly one of --project and --trust (see 'altsctl help')")
    }

    func testFederatedPeerVerifiesWithOpenSSL() throws {
        try succeed("bundles", "add", "--trust", rootB, "--dir", serverDir)
        let verify = try openssl(
            "verify", "-CAfile", serverDir + "/trust-bundle/proj-b.pem", clientDir + "/service-account.pem"
        )
        XCTAssertEqual(verify.stdout, "\(clientDir)/service-account.pem: OK\n")
    }
}
