import ALTSIdentity
import Foundation
import SwiftASN1
import X509
import XCTest

/// Leaf certificates built by hand, to check every rule of `verifyPeer`.
final class VerifyPeerTests: XCTestCase {
    private let email = "alts-server@proj-a.iam.gserviceaccount.com"
    private let epoch = TestPKI.epoch

    private func bundle(_ roots: TestRoot...) throws -> TrustBundle {
        try TrustBundle(roots: roots.map(\.certificate))
    }

    func testWellFormedLeafIsAccepted() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root)
        let peer = try bundle(root).verifyPeer(certificateDER: leaf.der, now: epoch)
        XCTAssertEqual(peer.serviceAccount, try ServiceAccountName(name: "alts-server", project: "proj-a"))
        XCTAssertEqual(peer.issuer, "CN=swift-alts project proj-a")
        XCTAssertEqual(peer.notBefore, epoch.addingTimeInterval(-300))
        XCTAssertEqual(peer.notAfter, epoch.addingTimeInterval(3600))
        XCTAssertEqual(peer.certificate, leaf.certificate)
    }

    func testExpiryHonoursDefaultClockSkew() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, notAfter: epoch)
        let trust = try bundle(root)
        XCTAssertNoThrow(try trust.verifyPeer(certificateDER: leaf.der, now: epoch.addingTimeInterval(300)))
        let late = epoch.addingTimeInterval(301)
        XCTAssertIdentityError(.certificateExpired(notAfter: epoch, now: late)) {
            try trust.verifyPeer(certificateDER: leaf.der, now: late)
        }
    }

    func testExpiryWithConfiguredClockSkew() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, notAfter: epoch)
        let trust = try bundle(root)
        let soon = epoch.addingTimeInterval(1)
        XCTAssertIdentityError(.certificateExpired(notAfter: epoch, now: soon)) {
            try trust.verifyPeer(certificateDER: leaf.der, now: soon, clockSkew: 0)
        }
        XCTAssertNoThrow(try trust.verifyPeer(certificateDER: leaf.der, now: epoch.addingTimeInterval(599), clockSkew: 600))
    }

    func testNotYetValidHonoursClockSkew() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, notBefore: epoch)
        let trust = try bundle(root)
        XCTAssertNoThrow(try trust.verifyPeer(certificateDER: leaf.der, now: epoch.addingTimeInterval(-300)))
        let early = epoch.addingTimeInterval(-301)
        XCTAssertIdentityError(.certificateNotYetValid(notBefore: epoch, now: early)) {
            try trust.verifyPeer(certificateDER: leaf.der, now: early)
        }
        let slightlyEarly = epoch.addingTimeInterval(-10)
        XCTAssertIdentityError(.certificateNotYetValid(notBefore: epoch, now: slightlyEarly)) {
            try trust.verifyPeer(certificateDER: leaf.der, now: slightlyEarly, clockSkew: 5)
        }
    }

    func testExpiredRootRejectsItsLeaves() throws {
        let rootNotAfter = epoch.addingTimeInterval(-3600)
        let root = try TestPKI.root(project: "proj-a", notAfter: rootNotAfter)
        let leaf = try TestPKI.leaf(email: email, issuer: root)
        XCTAssertIdentityError(.certificateExpired(notAfter: rootNotAfter, now: epoch)) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testLeafWithoutClientAuthIsRejected() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, extendedKeyUsage: [.serverAuth])
        XCTAssertIdentityError(.wrongKeyUsage("extendedKeyUsage lacks clientAuth")) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testLeafWithoutServerAuthIsRejected() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, extendedKeyUsage: [.clientAuth])
        XCTAssertIdentityError(.wrongKeyUsage("extendedKeyUsage lacks serverAuth")) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testLeafWithoutExtendedKeyUsageIsRejected() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, extendedKeyUsage: nil)
        XCTAssertIdentityError(.wrongKeyUsage("no extendedKeyUsage extension")) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testLeafWithoutDigitalSignatureIsRejected() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, keyUsage: KeyUsage(keyEncipherment: true))
        XCTAssertIdentityError(.wrongKeyUsage("keyUsage lacks digitalSignature")) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testCACertificateIsNotALeaf() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(
            email: email,
            issuer: root,
            basicConstraints: .isCertificateAuthority(maxPathLength: nil)
        )
        XCTAssertIdentityError(.notALeafCertificate) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
        // A root presented as a peer certificate is refused the same way.
        var serializer = DER.Serializer()
        try serializer.serialize(root.certificate)
        XCTAssertIdentityError(.notALeafCertificate) {
            try self.bundle(root).verifyPeer(certificateDER: serializer.serializedBytes, now: self.epoch)
        }
    }

    func testLeafWithoutEmailIsRejected() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: nil, uris: ["spiffe://proj-a/sa/alts-server"], issuer: root)
        XCTAssertIdentityError(.missingServiceAccountSAN) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testSPIFFEIDMustMatchEmail() throws {
        let root = try TestPKI.root(project: "proj-a")
        let other = try TestPKI.leaf(email: email, uris: ["spiffe://proj-a/sa/someone-else"], issuer: root)
        XCTAssertIdentityError(.spiffeMismatch(email: email, uri: "spiffe://proj-a/sa/someone-else")) {
            try self.bundle(root).verifyPeer(certificateDER: other.der, now: self.epoch)
        }
        let missing = try TestPKI.leaf(email: email, uris: [], issuer: root)
        XCTAssertIdentityError(.spiffeMismatch(email: email, uri: "")) {
            try self.bundle(root).verifyPeer(certificateDER: missing.der, now: self.epoch)
        }
        let extra = try TestPKI.leaf(
            email: email,
            uris: ["spiffe://proj-a/sa/alts-server", "spiffe://proj-a/sa/admin"],
            issuer: root
        )
        XCTAssertIdentityError(.spiffeMismatch(email: email, uri: "spiffe://proj-a/sa/admin")) {
            try self.bundle(root).verifyPeer(certificateDER: extra.der, now: self.epoch)
        }
    }

    func testMalformedEmailIsRejected() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: "root@proj-a.example.com", uris: ["spiffe://proj-a/sa/root"], issuer: root)
        XCTAssertIdentityError(.invalidServiceAccount("root@proj-a.example.com")) {
            try self.bundle(root).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testForeignRootCannotMintAccountsOfAnotherProject() throws {
        let rootA = try TestPKI.root(project: "proj-a")
        let rootB = try TestPKI.root(project: "proj-b")
        let forged = try TestPKI.leaf(email: "admin@proj-b.iam.gserviceaccount.com", issuer: rootA)
        XCTAssertIdentityError(.projectMismatch(certificateProject: "proj-b", issuerProject: "proj-a")) {
            try self.bundle(rootA, rootB).verifyPeer(certificateDER: forged.der, now: self.epoch)
        }
    }

    func testImpostorRootWithTheSameNameFailsTheSignatureCheck() throws {
        let real = try TestPKI.root(project: "proj-a")
        let impostor = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: impostor)
        XCTAssertIdentityError(.badSignature) {
            try self.bundle(real).verifyPeer(certificateDER: leaf.der, now: self.epoch)
        }
    }

    func testBothRootsOfARotatedProjectAreTried() throws {
        let old = try TestPKI.root(project: "proj-a")
        let new = try TestPKI.root(project: "proj-a")
        let trust = try bundle(old, new)
        for root in [old, new] {
            let leaf = try TestPKI.leaf(email: email, issuer: root)
            XCTAssertEqual(try trust.verifyPeer(certificateDER: leaf.der, now: epoch).serviceAccount.email, email)
        }
    }

    func testGarbageIsMalformed() throws {
        let trust = try bundle(TestPKI.root(project: "proj-a"))
        guard case .malformedCertificate = identityError({ try trust.verifyPeer(certificateDER: [0x30, 0x03, 1, 2, 3], now: self.epoch) }) else {
            return XCTFail("expected malformedCertificate")
        }
    }

    func testBundleRejectsRootsThatAreNotProjectRoots() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root)
        XCTAssertIdentityError(.notAProjectRoot("basicConstraints is not CA:true")) {
            try TrustBundle(roots: [leaf.certificate])
        }
        let misnamed = try TestPKI.root(project: "proj-a", commonName: "swift-alts project proj-b")
        XCTAssertIdentityError(.notAProjectRoot("subject CN must be 'swift-alts project proj-a'")) {
            try TrustBundle(roots: [misnamed.certificate])
        }
    }
}
