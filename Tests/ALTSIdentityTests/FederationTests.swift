import ALTSIdentity
import Foundation
import XCTest

/// Trust between projects, managed as files in the credential directory.
final class FederationTests: XCTestCase {
    func testPeerFromAnotherProjectIsTrustedOnlyWhileFederated() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        try fixture.createProject("proj-b")
        let serverDir = fixture.root + "/server"
        let clientDir = fixture.root + "/client"
        try fixture.issue("alts-server", project: "proj-a", into: serverDir)
        let client = try fixture.issue("alts-client", project: "proj-b", into: clientDir)
        let now = TestPKI.epoch

        let before = try ALTSCredential.load(directory: serverDir)
        XCTAssertIdentityError(.untrustedIssuer(issuer: "CN=swift-alts project proj-b")) {
            try before.trustBundle.verifyPeer(certificateDER: client.certificateDER, now: now)
        }

        let change = try CredentialDirectory(serverDir).addTrustedRoot(ProjectRoot.load(path: fixture.rootPath("proj-b")))
        XCTAssertEqual(change, .added)
        let federated = try ALTSCredential.load(directory: serverDir)
        XCTAssertEqual(federated.trustBundle.projects, ["proj-a", "proj-b"])
        let peer = try federated.trustBundle.verifyPeer(certificateDER: client.certificateDER, now: now)
        XCTAssertEqual(peer.serviceAccount.email, "alts-client@proj-b.iam.gserviceaccount.com")
        XCTAssertEqual(peer.issuer, "CN=swift-alts project proj-b")

        try CredentialDirectory(serverDir).removeTrustedRoot(project: "proj-b")
        let after = try ALTSCredential.load(directory: serverDir)
        XCTAssertEqual(after.trustBundle.projects, ["proj-a"])
        XCTAssertIdentityError(.untrustedIssuer(issuer: "CN=swift-alts project proj-b")) {
            try after.trustBundle.verifyPeer(certificateDER: client.certificateDER, now: now)
        }
    }

    func testAddingTheSameRootTwiceIsUnchangedAndANewRootReplaces() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        try fixture.createProject("proj-b")
        let creddir = fixture.root + "/cred"
        try fixture.issue("alts-server", project: "proj-a", into: creddir)
        let directory = CredentialDirectory(creddir)
        let rootB = try ProjectRoot.load(path: fixture.rootPath("proj-b"))
        XCTAssertEqual(try directory.addTrustedRoot(rootB), .added)
        XCTAssertEqual(try directory.addTrustedRoot(rootB), .unchanged)
        let recreatedB = try ProjectRoot(certificate: ProjectAuthority.create(projectID: "proj-b").certificate)
        XCTAssertEqual(try directory.addTrustedRoot(recreatedB), .replaced)
        XCTAssertEqual(try directory.trustedRoots().map(\.fingerprintSHA256), [
            try ProjectRoot.load(path: fixture.rootPath("proj-a")).fingerprintSHA256,
            recreatedB.fingerprintSHA256,
        ])
    }

    func testIssuingProjectCannotBeRemoved() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        let creddir = fixture.root + "/cred"
        try fixture.issue("alts-server", project: "proj-a", into: creddir)
        XCTAssertIdentityError(.cannotRemoveIssuingProject("proj-a")) {
            try CredentialDirectory(creddir).removeTrustedRoot(project: "proj-a")
        }
        XCTAssertIdentityError(.projectNotInTrustBundle("proj-z")) {
            try CredentialDirectory(creddir).removeTrustedRoot(project: "proj-z")
        }
        XCTAssertEqual(try ALTSCredential.load(directory: creddir).trustBundle.projects, ["proj-a"])
    }

    func testMisnamedTrustBundleFileIsRejected() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        try fixture.createProject("proj-b")
        let creddir = fixture.root + "/cred"
        try fixture.issue("alts-server", project: "proj-a", into: creddir)
        let misnamed = creddir + "/trust-bundle/partner.pem"
        try writeFile(misnamed, try readFile(fixture.rootPath("proj-b")))
        XCTAssertIdentityError(.trustBundleEntryMismatch(path: misnamed, project: "proj-b")) {
            try ALTSCredential.load(directory: creddir)
        }
    }

    func testLeafIsNotAcceptedAsAProjectRoot() throws {
        let fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        let creddir = fixture.root + "/cred"
        try fixture.issue("alts-server", project: "proj-a", into: creddir)
        XCTAssertIdentityError(.notAProjectRoot("basicConstraints is not CA:true")) {
            try ProjectRoot.load(path: creddir + "/service-account.pem")
        }
    }
}
