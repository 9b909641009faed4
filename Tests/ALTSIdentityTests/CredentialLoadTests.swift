import ALTSIdentity
import Crypto
import Foundation
import XCTest

/// Self-checks `ALTSCredential.load` makes before a credential can be used.
final class CredentialLoadTests: XCTestCase {
    private var fixture: Fixture!
    private var creddir: String { fixture.root + "/cred" }
    private var keyPath: String { creddir + "/service-account.key" }

    override func setUpWithError() throws {
        fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        try fixture.issue("alts-server", project: "proj-a", into: creddir)
    }

    func testKeyOfAnotherCredentialIsAMismatch() throws {
        let otherDir = fixture.root + "/other"
        try fixture.issue("alts-server", project: "proj-a", into: otherDir)
        try FileManager.default.removeItem(atPath: keyPath)
        try FileManager.default.copyItem(atPath: otherDir + "/service-account.key", toPath: keyPath)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        XCTAssertIdentityError(.keyCertificateMismatch) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testKeyReadableByGroupIsRefused() throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: keyPath)
        XCTAssertIdentityError(.insecureKeyFileMode(path: keyPath, mode: 0o640)) {
            try ALTSCredential.load(directory: self.creddir)
        }
        XCTAssertEqual(
            IdentityError(.insecureKeyFileMode(path: keyPath, mode: 0o640)).description,
            "\(keyPath): private key is accessible by group or others (mode 640); run chmod 600 \(keyPath)"
        )
    }

    func testKeyWritableByOthersIsRefused() throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o602], ofItemAtPath: keyPath)
        XCTAssertIdentityError(.insecureKeyFileMode(path: keyPath, mode: 0o602)) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testOwnerOnlyModesAreAccepted() throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: keyPath)
        XCTAssertEqual(try ALTSCredential.load(directory: creddir).serviceAccount.name, "alts-server")
    }

    func testNonP256KeyIsUnsupported() throws {
        try FileManager.default.removeItem(atPath: keyPath)
        try writeFile(keyPath, P384.Signing.PrivateKey().pemRepresentation + "\n", mode: 0o600)
        XCTAssertIdentityError(.unsupportedKeyAlgorithm("P384")) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testCorruptKeyIsMalformed() throws {
        try FileManager.default.removeItem(atPath: keyPath)
        try writeFile(keyPath, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", mode: 0o600)
        XCTAssertIdentityError(.malformedPrivateKey(path: keyPath)) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testCorruptCertificateIsMalformedPEM() throws {
        let certificatePath = creddir + "/service-account.pem"
        try writeFile(certificatePath, "not a certificate\n")
        XCTAssertIdentityError(.malformedPEM(path: certificatePath)) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testMissingFilesAreNamed() throws {
        let missing = fixture.root + "/nowhere"
        XCTAssertIdentityError(.fileNotFound(path: missing + "/service-account.pem")) {
            try ALTSCredential.load(directory: missing)
        }
        try FileManager.default.removeItem(atPath: keyPath)
        XCTAssertIdentityError(.fileNotFound(path: keyPath)) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testMissingOrEmptyTrustBundleIsRefused() throws {
        let bundle = creddir + "/trust-bundle"
        try FileManager.default.removeItem(atPath: bundle + "/proj-a.pem")
        XCTAssertIdentityError(.noTrustBundle(path: bundle)) {
            try ALTSCredential.load(directory: self.creddir)
        }
        try FileManager.default.removeItem(atPath: bundle)
        XCTAssertIdentityError(.noTrustBundle(path: bundle)) {
            try ALTSCredential.load(directory: self.creddir)
        }
    }

    func testCertificateFromAnotherRootOfTheSameProjectFailsValidation() throws {
        // The project was re-created elsewhere: same name, different key.
        let elsewhere = Fixture(root: fixture.root + "/elsewhere")
        try elsewhere.createProject("proj-a")
        try writeFile(creddir + "/trust-bundle/proj-a.pem", try readFile(elsewhere.rootPath("proj-a")))
        let credential = try ALTSCredential.load(directory: creddir)
        XCTAssertIdentityError(.badSignature) {
            try credential.validate(now: TestPKI.epoch)
        }
    }

    func testExpiredCredentialLoadsButDoesNotValidate() throws {
        let credential = try ALTSCredential.load(directory: creddir)
        let notAfter = TestPKI.epoch.addingTimeInterval(3600)
        let later = notAfter.addingTimeInterval(301)
        XCTAssertIdentityError(.certificateExpired(notAfter: notAfter, now: later)) {
            try credential.validate(now: later)
        }
        XCTAssertIdentityError(.certificateExpired(notAfter: notAfter, now: later)) {
            try credential.validate(now: later, clockSkew: 300)
        }
        XCTAssertNoThrow(try credential.validate(now: later, clockSkew: 302))
    }
}
