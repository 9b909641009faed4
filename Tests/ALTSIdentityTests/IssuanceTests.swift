import ALTSIdentity
import Foundation
import X509
import XCTest

final class IssuanceTests: XCTestCase {
    func testIssueLoadVerifyRoundTrip() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        let authority = try fixture.createProject("proj-a")
        let creddir = fixture.root + "/cred"
        let issued = try fixture.issue("alts-server", project: "proj-a", into: creddir, ttl: 86_400)

        let credential = try ALTSCredential.load(directory: creddir)
        XCTAssertEqual(credential.serviceAccount, try ServiceAccountName(name: "alts-server", project: "proj-a"))
        XCTAssertEqual(credential.certificateDER, issued.certificateDER)
        XCTAssertEqual(credential.trustBundle.projects, ["proj-a"])
        XCTAssertEqual(credential.trustBundle.roots, [authority.certificate])

        let verified = try credential.validate(now: TestPKI.epoch)
        XCTAssertEqual(verified.serviceAccount.email, "alts-server@proj-a.iam.gserviceaccount.com")
        XCTAssertEqual(verified.issuer, "CN=swift-alts project proj-a")
        XCTAssertEqual(verified.notBefore, TestPKI.epoch.addingTimeInterval(-300))
        XCTAssertEqual(verified.notAfter, TestPKI.epoch.addingTimeInterval(86_400))
        XCTAssertEqual(verified.fingerprintSHA256, credential.fingerprintSHA256)
        XCTAssertEqual(verified.fingerprintSHA256.count, 32 * 3 - 1)

        // A peer verifies the credential's handshake signature with the leaf key.
        let message = Array("handshake transcript".utf8)
        let signature = try credential.sign(message)
        XCTAssertTrue(verified.isValidSignature(signature, for: message))
        XCTAssertFalse(verified.isValidSignature(signature, for: message + [0]))
        XCTAssertFalse(verified.isValidSignature([0x30, 0x00], for: message))
    }

    func testIssuedCertificateProfile() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        let authority = try fixture.createProject("proj-a")
        let issued = try fixture.issue("alts-server", project: "proj-a", into: fixture.root + "/cred")
        let leaf = issued.certificate

        XCTAssertEqual(leaf.subject.description, "CN=alts-server@proj-a.iam.gserviceaccount.com")
        XCTAssertEqual(leaf.issuer, authority.certificate.subject)
        XCTAssertEqual(leaf.signatureAlgorithm, .ecdsaWithSHA256)
        XCTAssertEqual(try leaf.extensions.basicConstraints, .notCertificateAuthority)
        XCTAssertEqual(leaf.extensions[oid: .X509ExtensionID.basicConstraints]?.critical, true)
        XCTAssertEqual(try leaf.extensions.keyUsage, KeyUsage(digitalSignature: true))
        XCTAssertEqual(leaf.extensions[oid: .X509ExtensionID.keyUsage]?.critical, true)
        XCTAssertEqual(try leaf.extensions.extendedKeyUsage, try ExtendedKeyUsage([.serverAuth, .clientAuth]))
        XCTAssertEqual(
            Array(try XCTUnwrap(try leaf.extensions.subjectAlternativeNames)),
            [
                .rfc822Name("alts-server@proj-a.iam.gserviceaccount.com"),
                .uniformResourceIdentifier("spiffe://proj-a/sa/alts-server"),
            ]
        )
        let rootKeyID = try XCTUnwrap(try authority.certificate.extensions.subjectKeyIdentifier).keyIdentifier
        XCTAssertEqual(try leaf.extensions.authorityKeyIdentifier?.keyIdentifier, rootKeyID)
        XCTAssertNotNil(try leaf.extensions.subjectKeyIdentifier)

        let root = authority.certificate
        XCTAssertEqual(root.subject.description, "CN=swift-alts project proj-a")
        XCTAssertEqual(root.issuer, root.subject)
        XCTAssertEqual(try root.extensions.basicConstraints, .isCertificateAuthority(maxPathLength: 0))
        XCTAssertEqual(try root.extensions.keyUsage, KeyUsage(keyCertSign: true, cRLSign: true))
        XCTAssertEqual(
            Array(try XCTUnwrap(try root.extensions.subjectAlternativeNames)),
            [.uniformResourceIdentifier("spiffe://proj-a")]
        )
        XCTAssertEqual(root.notValidAfter, TestPKI.epoch.addingTimeInterval(ProjectAuthority.defaultValidity))
    }

    func testSerialNumbersAreRandom() throws {
        let authority = try ProjectAuthority.create(projectID: "proj-a", now: TestPKI.epoch)
        let account = try ServiceAccountName(name: "alts-server", project: "proj-a")
        let first = try authority.issue(account, ttl: 60, now: TestPKI.epoch)
        let second = try authority.issue(account, ttl: 60, now: TestPKI.epoch)
        XCTAssertNotEqual(first.certificate.serialNumber, second.certificate.serialNumber)
        XCTAssertGreaterThanOrEqual(first.certificate.serialNumber.bytes.count, 16)
    }

    func testFilesAreWrittenWithPrivateModes() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        let creddir = fixture.root + "/cred"
        try fixture.issue("alts-server", project: "proj-a", into: creddir)

        XCTAssertEqual(try fileMode(fixture.projectsDirectory), 0o700)
        XCTAssertEqual(try fileMode(fixture.projectsDirectory + "/proj-a"), 0o700)
        XCTAssertEqual(try fileMode(fixture.projectsDirectory + "/proj-a/ca.key"), 0o600)
        XCTAssertEqual(try fileMode(fixture.projectsDirectory + "/proj-a/ca.pem"), 0o644)
        XCTAssertEqual(try fileMode(creddir), 0o700)
        XCTAssertEqual(try fileMode(creddir + "/service-account.key"), 0o600)
        XCTAssertEqual(try fileMode(creddir + "/service-account.pem"), 0o644)
        XCTAssertTrue(try readFile(creddir + "/service-account.key").hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: creddir).sorted(),
            ["service-account.key", "service-account.pem", "trust-bundle"]
        )
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: creddir + "/trust-bundle"), ["proj-a.pem"])
    }

    func testExistingProjectIsNotOverwritten() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        let before = try readFile(fixture.projectsDirectory + "/proj-a/ca.key")
        XCTAssertIdentityError(.alreadyExists(path: fixture.projectsDirectory + "/proj-a")) {
            try ProjectAuthority.create(projectID: "proj-a").save(projectsDirectory: fixture.projectsDirectory)
        }
        XCTAssertEqual(try readFile(fixture.projectsDirectory + "/proj-a/ca.key"), before)
    }

    func testAuthorityIssuesOnlyItsOwnProject() throws {
        let authority = try ProjectAuthority.create(projectID: "proj-a")
        XCTAssertIdentityError(.projectMismatch(certificateProject: "proj-b", issuerProject: "proj-a")) {
            try authority.issue(ServiceAccountName(name: "alts-server", project: "proj-b"), ttl: 60)
        }
    }

    func testReissueReplacesCredentialAndKeepsFederation() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        try fixture.createProject("proj-b")
        let creddir = fixture.root + "/cred"
        let first = try fixture.issue("alts-server", project: "proj-a", into: creddir)
        try CredentialDirectory(creddir).addTrustedRoot(ProjectRoot.load(path: fixture.rootPath("proj-b")))

        let second = try fixture.issue("alts-server", project: "proj-a", into: creddir)
        let credential = try ALTSCredential.load(directory: creddir)
        XCTAssertEqual(credential.certificateDER, second.certificateDER)
        XCTAssertNotEqual(credential.certificateDER, first.certificateDER)
        XCTAssertEqual(credential.trustBundle.projects, ["proj-a", "proj-b"])
        // No temporaries of the atomic replacement are left behind.
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: creddir).sorted(),
            ["service-account.key", "service-account.pem", "trust-bundle"]
        )
    }

    func testLoadedAuthorityMatchesSavedOne() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        let created = try fixture.createProject("proj-a")
        let loaded = try ProjectAuthority.load(projectsDirectory: fixture.projectsDirectory, projectID: "proj-a")
        XCTAssertEqual(loaded.certificate, created.certificate)
        XCTAssertEqual(loaded.projectID, "proj-a")
        XCTAssertIdentityError(.fileNotFound(path: fixture.projectsDirectory + "/proj-z/ca.pem")) {
            try ProjectAuthority.load(projectsDirectory: fixture.projectsDirectory, projectID: "proj-z")
        }
    }

    func testSecretsDoNotAppearInDescriptions() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        let authority = try fixture.createProject("proj-a")
        let creddir = fixture.root + "/cred"
        let issued = try fixture.issue("alts-server", project: "proj-a", into: creddir)
        let credential = try ALTSCredential.load(directory: creddir)

        XCTAssertEqual(
            "\(credential)",
            "ALTSCredential(alts-server@proj-a.iam.gserviceaccount.com, trusts: proj-a)"
        )
        for value in [credential as Any, authority, issued] {
            var dumped = ""
            dump(value, to: &dumped)
            XCTAssertFalse(dumped.contains("privateKey"), dumped)
            XCTAssertFalse(String(reflecting: value).contains("privateKey"))
        }
    }
}
