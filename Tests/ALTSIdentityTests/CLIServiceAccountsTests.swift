import ALTSIdentity
import ALTSTestSupport
import Foundation
import XCTest

final class CLIServiceAccountsTests: CLITestCase {
    private var creddir: String { credentialDirectory("cred") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try succeed("projects", "create", "proj-a", "--dir", projectsDirectory)
    }

    private func describeLines(_ credential: ALTSCredential, trust: String) -> [String] {
        [
            "Service account: alts-server@proj-a.iam.gserviceaccount.com",
            "SPIFFE ID: spiffe://proj-a/sa/alts-server",
            "Project: proj-a",
            "Issuer: CN=swift-alts project proj-a",
            "Not before: \(ISO8601Time.format(credential.certificate.notValidBefore))",
            "Not after: \(ISO8601Time.format(credential.certificate.notValidAfter))",
            "Fingerprint (SHA-256): \(credential.fingerprintSHA256)",
            "Trust bundle: \(trust)",
        ]
    }

    func testCreateDescribeAndVerifyWithOpenSSL() throws {
        let created = try succeed(
            "service-accounts", "create", "alts-server", "--project", "proj-a",
            "--dir", projectsDirectory, "--ttl", "1h30m", "--out", creddir
        )
        let credential = try ALTSCredential.load(directory: creddir)
        XCTAssertEqual(created, [
            "Issued service account alts-server@proj-a.iam.gserviceaccount.com",
            "Certificate: \(creddir)/service-account.pem",
            "Key: \(creddir)/service-account.key",
            "Not after: \(ISO8601Time.format(credential.certificate.notValidAfter))",
        ])
        let lifetime = credential.certificate.notValidAfter.timeIntervalSince(credential.certificate.notValidBefore)
        XCTAssertEqual(lifetime, 5400 + 300, accuracy: 1)
        XCTAssertEqual(try fileMode(creddir), 0o700)
        XCTAssertEqual(try fileMode(creddir + "/service-account.key"), 0o600)

        XCTAssertEqual(try succeed("service-accounts", "describe", creddir), describeLines(credential, trust: "proj-a"))

        let verify = try openssl("verify", "-CAfile", projectsDirectory + "/proj-a/ca.pem", creddir + "/service-account.pem")
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertEqual(verify.stdout, "\(creddir)/service-account.pem: OK\n")

        let text = try openssl("x509", "-text", "-noout", "-in", creddir + "/service-account.pem")
        XCTAssertEqual(text.status, 0, text.stderr)
        for expected in [
            "Subject: CN = alts-server@proj-a.iam.gserviceaccount.com",
            "Issuer: CN = swift-alts project proj-a",
            "CA:FALSE",
            "Digital Signature",
            "TLS Web Server Authentication, TLS Web Client Authentication",
            "email:alts-server@proj-a.iam.gserviceaccount.com, URI:spiffe://proj-a/sa/alts-server",
            "X509v3 Subject Key Identifier",
            "X509v3 Authority Key Identifier",
            "NIST CURVE: P-256",
        ] {
            XCTAssertTrue(text.stdout.contains(expected), "missing \(expected) in\n\(text.stdout)")
        }

        let fingerprint = try openssl("x509", "-fingerprint", "-sha256", "-noout", "-in", creddir + "/service-account.pem")
        XCTAssertEqual(fingerprint.stdout.split(separator: "=").last.map(String.init), credential.fingerprintSHA256 + "\n")

        let keyMatches = try openssl("x509", "-noout", "-pubkey", "-in", creddir + "/service-account.pem")
        let keyPublic = try openssl("pkey", "-pubout", "-in", creddir + "/service-account.key")
        XCTAssertEqual(keyMatches.stdout, keyPublic.stdout)
    }

    func testTTLIsAppliedToNotAfter() throws {
        for (ttl, seconds) in [("90s", 90.0), ("30m", 1800), ("24h", 86_400), ("7d", 604_800)] {
            let directory = credentialDirectory("cred-\(ttl)")
            try succeed(
                "service-accounts", "create", "alts-server", "--project", "proj-a",
                "--dir", projectsDirectory, "--ttl", ttl, "--out", directory
            )
            let certificate = try ALTSCredential.load(directory: directory).certificate
            XCTAssertEqual(
                certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore),
                seconds + 300,
                accuracy: 1,
                ttl
            )
        }
    }

    func testBadTTLIsRejected() throws {
        let result = try altsctl(
            "service-accounts", "create", "alts-server", "--project", "proj-a",
            "--dir", projectsDirectory, "--ttl", "tomorrow", "--out", creddir
        )
        assertFails(
            result,
            with: "invalid duration 'tomorrow': expected a positive Go-style duration such as 90s, 30m, 24h, 7d or 1h30m"
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: creddir))
    }

    func testUnknownProjectIsReported() throws {
        let result = try altsctl(
            "service-accounts", "create", "alts-server", "--project", "proj-z",
            "--dir", projectsDirectory, "--out", creddir
        )
        assertFails(result, with: "\(projectsDirectory)/proj-z/ca.pem: no such file")
    }

    func testBadAccountNameIsRejected() throws {
        let result = try altsctl(
            "service-accounts", "create", "Alts_Server", "--project", "proj-a",
            "--dir", projectsDirectory, "--out", creddir
        )
        assertFails(
            result,
            with: "invalid service account 'Alts_Server': expected NAME@PROJECT.iam.gserviceaccount.com where NAME and PROJECT are 1-63 characters of [a-z0-9-] starting with a letter"
        )
    }

    func testReissueKeepsFederation() throws {
        try succeed("projects", "create", "proj-b", "--dir", projectsDirectory)
        let create = [
            "service-accounts", "create", "alts-server", "--project", "proj-a",
            "--dir", projectsDirectory, "--out", creddir,
        ]
        let first = try Subprocess.run(try BuiltBinary.locate("altsctl"), create)
        XCTAssertEqual(first.status, 0, first.stderr)
        try succeed("bundles", "add", "--trust", projectsDirectory + "/proj-b/ca.pem", "--dir", creddir)
        let before = try ALTSCredential.load(directory: creddir).certificateDER

        let second = try Subprocess.run(try BuiltBinary.locate("altsctl"), create)
        XCTAssertEqual(second.status, 0, second.stderr)
        let credential = try ALTSCredential.load(directory: creddir)
        XCTAssertNotEqual(credential.certificateDER, before)
        XCTAssertEqual(
            try succeed("service-accounts", "describe", creddir),
            describeLines(credential, trust: "proj-a, proj-b")
        )
    }

    // MARK: describe failures

    private func install(now: Date, ttl: TimeInterval) throws -> IssuedServiceAccount {
        let authority = try ProjectAuthority.load(projectsDirectory: projectsDirectory, projectID: "proj-a")
        let issued = try authority.issue(ServiceAccountName(name: "alts-server", project: "proj-a"), ttl: ttl, now: now)
        try CredentialDirectory(creddir).install(issued)
        return issued
    }

    func testDescribeFailsOnExpiredCredential() throws {
        let issued = try install(now: Date().addingTimeInterval(-7200), ttl: 60)
        let result = try altsctl("service-accounts", "describe", creddir)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdoutLines.first, "Service account: alts-server@proj-a.iam.gserviceaccount.com")
        XCTAssertEqual(result.stderrLines.count, 1)
        let notAfter = ISO8601Time.format(issued.certificate.notValidAfter)
        XCTAssertTrue(
            result.stderr.hasPrefix("altsctl: error: certificate expired at \(notAfter) (now "),
            result.stderr
        )
    }

    func testDescribeFailsOnNotYetValidCredential() throws {
        let issued = try install(now: Date().addingTimeInterval(86_400), ttl: 3600)
        let result = try altsctl("service-accounts", "describe", creddir)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderrLines.count, 1)
        let notBefore = ISO8601Time.format(issued.certificate.notValidBefore)
        XCTAssertTrue(
            result.stderr.hasPrefix("altsctl: error: certificate is not valid before \(notBefore) (now "),
            result.stderr
        )
    }

    func testDescribeFailsOnKeyCertificateMismatch() throws {
        _ = try install(now: Date(), ttl: 3600)
        let other = credentialDirectory("other")
        try succeed(
            "service-accounts", "create", "alts-server", "--project", "proj-a",
            "--dir", projectsDirectory, "--out", other
        )
        try FileManager.default.removeItem(atPath: creddir + "/service-account.key")
        try FileManager.default.copyItem(atPath: other + "/service-account.key", toPath: creddir + "/service-account.key")
        let result = try altsctl("service-accounts", "describe", creddir)
        assertFails(result, with: "the private key does not match the certificate's public key")
        XCTAssertEqual(result.stdout, "")
    }

    func testDescribeFailsWhenTheTrustBundleDidNotSignTheCertificate() throws {
        _ = try install(now: Date(), ttl: 3600)
        let elsewhere = workDirectory + "/elsewhere"
        try succeed("projects", "create", "proj-a", "--dir", elsewhere)
        try writeFile(creddir + "/trust-bundle/proj-a.pem", try readFile(elsewhere + "/proj-a/ca.pem"))
        let result = try altsctl("service-accounts", "describe", creddir)
        assertFails(result, with: "certificate signature does not verify with the trusted project root's key")
    }

    func testDescribeRefusesAnInsecureKey() throws {
        _ = try install(now: Date(), ttl: 3600)
        let keyPath = creddir + "/service-account.key"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyPath)
        let result = try altsctl("service-accounts", "describe", creddir)
        assertFails(
            result,
            with: "\(keyPath): private key is accessible by group or others (mode 644); run chmod 600 \(keyPath)"
        )
    }
}
