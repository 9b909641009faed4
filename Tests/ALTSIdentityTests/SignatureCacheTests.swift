import ALTSIdentity
import Foundation
import XCTest

/// The signature cache may only skip the ECDSA check, never any other rule.
final class SignatureCacheTests: XCTestCase {
    private let email = "alts-server@proj-a.iam.gserviceaccount.com"

    func testRepeatedVerificationIsCachedButTimesAreRechecked() throws {
        let root = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: root, notAfter: TestPKI.epoch)
        let trust = try TrustBundle(roots: [root.certificate])
        XCTAssertEqual(trust.cachedSignatureCount, 0)
        _ = try trust.verifyPeer(certificateDER: leaf.der, now: TestPKI.epoch)
        _ = try trust.verifyPeer(certificateDER: leaf.der, now: TestPKI.epoch)
        XCTAssertEqual(trust.cachedSignatureCount, 1)

        let late = TestPKI.epoch.addingTimeInterval(3600)
        XCTAssertIdentityError(.certificateExpired(notAfter: TestPKI.epoch, now: late)) {
            try trust.verifyPeer(certificateDER: leaf.der, now: late)
        }
    }

    func testFailedSignaturesAreNotCached() throws {
        let real = try TestPKI.root(project: "proj-a")
        let impostor = try TestPKI.root(project: "proj-a")
        let leaf = try TestPKI.leaf(email: email, issuer: impostor)
        let trust = try TrustBundle(roots: [real.certificate])
        for _ in 0..<2 {
            XCTAssertIdentityError(.badSignature) {
                try trust.verifyPeer(certificateDER: leaf.der, now: TestPKI.epoch)
            }
        }
        XCTAssertEqual(trust.cachedSignatureCount, 0)
    }

    func testCacheIsBounded() throws {
        let root = try TestPKI.root(project: "proj-a")
        let entries = try [ProjectRoot(certificate: root.certificate)]
        let trust = TrustBundle(entries: entries, cacheCapacity: 2)
        var leaves: [TestLeaf] = []
        for _ in 0..<3 {
            let leaf = try TestPKI.leaf(email: email, issuer: root)
            leaves.append(leaf)
            _ = try trust.verifyPeer(certificateDER: leaf.der, now: TestPKI.epoch)
        }
        XCTAssertEqual(trust.cachedSignatureCount, 2)
        // Evicted entries are simply verified again.
        XCTAssertEqual(try trust.verifyPeer(certificateDER: leaves[0].der, now: TestPKI.epoch).serviceAccount.email, email)
        XCTAssertEqual(trust.cachedSignatureCount, 2)
    }

    func testCacheIsSafeUnderConcurrentUse() throws {
        let root = try TestPKI.root(project: "proj-a")
        let trust = try TrustBundle(roots: [root.certificate])
        let leaves = try (0..<8).map { _ in try TestPKI.leaf(email: email, issuer: root).der }
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let peer = try? trust.verifyPeer(certificateDER: leaves[index % leaves.count], now: TestPKI.epoch)
            XCTAssertEqual(peer?.serviceAccount.name, "alts-server")
        }
        XCTAssertEqual(trust.cachedSignatureCount, 8)
    }
}
