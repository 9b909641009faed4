import ALTSIdentity
import Foundation
import Synchronization
import XCTest

final class CredentialStoreTests: XCTestCase {
    private final class ManualClock: Sendable {
        let now = Mutex(TestPKI.epoch)
        func read() -> Date { now.withLock { $0 } }
    }

    private var fixture: Fixture!
    private var creddir: String { fixture.root + "/cred" }
    private let clock = ManualClock()

    override func setUpWithError() throws {
        fixture = Fixture(root: try makeTemporaryDirectory())
        try fixture.createProject("proj-a")
        try fixture.issue("alts-server", project: "proj-a", into: creddir)
    }

    private func makeStore() throws -> CredentialStore {
        let clock = self.clock
        return try CredentialStore(directory: creddir, clock: { clock.read() })
    }

    func testReloadIfChangedPicksUpAReissuedCertificate() throws {
        let store = try makeStore()
        let established = store.current
        XCTAssertFalse(try store.reloadIfChanged())

        let reissued = try fixture.issue("alts-server", project: "proj-a", into: creddir)
        XCTAssertTrue(try store.reloadIfChanged())
        XCTAssertEqual(store.current.certificateDER, reissued.certificateDER)
        XCTAssertFalse(try store.reloadIfChanged())
        // A connection that captured the old credential keeps it.
        XCTAssertNotEqual(established.certificateDER, reissued.certificateDER)
        XCTAssertEqual(established.serviceAccount.name, "alts-server")
    }

    func testReloadPicksUpFederationChanges() throws {
        let store = try makeStore()
        try fixture.createProject("proj-b")
        try CredentialDirectory(creddir).addTrustedRoot(ProjectRoot.load(path: fixture.rootPath("proj-b")))
        XCTAssertTrue(try store.reloadIfChanged())
        XCTAssertEqual(store.current.trustBundle.projects, ["proj-a", "proj-b"])
        try CredentialDirectory(creddir).removeTrustedRoot(project: "proj-b")
        XCTAssertTrue(try store.reloadIfChanged())
        XCTAssertEqual(store.current.trustBundle.projects, ["proj-a"])
    }

    func testFailedReloadKeepsTheOldCredential() throws {
        let store = try makeStore()
        let original = store.current.certificateDER
        let certificatePath = creddir + "/service-account.pem"
        try writeFile(certificatePath, "garbage\n")

        XCTAssertIdentityError(.malformedPEM(path: certificatePath)) { try store.reload() }
        XCTAssertEqual(store.current.certificateDER, original)
        // The failure is reported again on every poll until the files are fixed...
        XCTAssertIdentityError(.malformedPEM(path: certificatePath)) { try store.reloadIfChanged() }
        XCTAssertEqual(store.current.certificateDER, original)

        // ...and the fixed credential is then picked up.
        let reissued = try fixture.issue("alts-server", project: "proj-a", into: creddir)
        XCTAssertTrue(try store.reloadIfChanged())
        XCTAssertEqual(store.current.certificateDER, reissued.certificateDER)
    }

    func testReloadRefusesAnExpiredReplacement() throws {
        let store = try makeStore()
        let original = store.current.certificateDER
        let issuedAt = TestPKI.epoch.addingTimeInterval(-7200)
        try fixture.issue("alts-server", project: "proj-a", into: creddir, ttl: 60, now: issuedAt)
        XCTAssertIdentityError(
            .certificateExpired(notAfter: issuedAt.addingTimeInterval(60), now: TestPKI.epoch)
        ) { try store.reload() }
        XCTAssertEqual(store.current.certificateDER, original)
    }

    func testReloadRefusesAnInsecureKey() throws {
        let store = try makeStore()
        let keyPath = creddir + "/service-account.key"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyPath)
        XCTAssertIdentityError(.insecureKeyFileMode(path: keyPath, mode: 0o644)) { try store.reload() }
        XCTAssertEqual(store.current.serviceAccount.email, "alts-server@proj-a.iam.gserviceaccount.com")
    }

    func testStoreRefusesToStartWithAnExpiredCredential() throws {
        clock.now.withLock { $0 = TestPKI.epoch.addingTimeInterval(86_400) }
        XCTAssertIdentityError(
            .certificateExpired(notAfter: TestPKI.epoch.addingTimeInterval(3600), now: TestPKI.epoch.addingTimeInterval(86_400))
        ) { try self.makeStore() }
    }
}
