@testable import ALTSIdentity
import Crypto
import Foundation
import SwiftASN1
import X509

/// Throwaway projects and service-account credentials on disk, issued through the real
/// `ProjectAuthority` path, plus hand-built certificates for the misissued cases `altsctl`
/// never produces.
public final class TestCredentials: @unchecked Sendable {
    public let root: String
    private var authorities: [String: ProjectAuthority] = [:]
    private let lock = NSLock()

    public init() throws {
        root = try makeScratchDirectory(prefix: "swift-alts-creds")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    public var projectsDirectory: String { root + "/projects" }

    /// The project's authority, created on first use and kept on disk.
    public func authority(_ project: String) throws -> ProjectAuthority {
        try lock.withLock {
            if let existing = authorities[project] { return existing }
            let created = try ProjectAuthority.create(projectID: project)
            try FileManager.default.createDirectory(atPath: projectsDirectory, withIntermediateDirectories: true)
            try created.save(projectsDirectory: projectsDirectory)
            authorities[project] = created
            return created
        }
    }

    /// Issues `name@project` into its own directory and loads it. `trusting` adds other
    /// projects' roots to its trust bundle (federation).
    public func credential(
        _ name: String, project: String, ttl: TimeInterval = 3_600, issuedAt: Date = Date(), trusting: [String] = []
    ) throws -> ALTSCredential {
        let directory = try issue(name, project: project, ttl: ttl, issuedAt: issuedAt, trusting: trusting)
        return try ALTSCredential.load(directory: directory)
    }

    /// Issues `name@project` into `root/<project>-<name>` and returns that directory.
    @discardableResult
    public func issue(
        _ name: String, project: String, ttl: TimeInterval = 3_600, issuedAt: Date = Date(), trusting: [String] = [],
        directory: String? = nil
    ) throws -> String {
        let authority = try authority(project)
        let issued = try authority.issue(ServiceAccountName(name: name, project: project), ttl: ttl, now: issuedAt)
        let path = directory ?? "\(root)/\(project)-\(name)"
        let credentialDirectory = CredentialDirectory(path)
        try credentialDirectory.install(issued)
        for other in trusting {
            _ = try credentialDirectory.addTrustedRoot(ProjectRoot(certificate: try self.authority(other).certificate))
        }
        return path
    }

    /// A credential whose leaf is built by hand, signed by a root we also build by hand:
    /// for certificates with the wrong key usage and other misissuance, which
    /// `ALTSCredential.load` refuses. Its trust bundle holds its own root and `trusting`.
    public func handBuiltCredential(
        email: String, project: String,
        extendedKeyUsage: [ExtendedKeyUsage.Usage] = [.serverAuth, .clientAuth],
        keyUsage: KeyUsage = KeyUsage(digitalSignature: true),
        isCertificateAuthority: Bool = false,
        trusting: [String] = []
    ) throws -> (credential: ALTSCredential, root: Certificate) {
        let rootKey = P256.Signing.PrivateKey()
        let rootName = try DistinguishedName { CommonName("swift-alts project \(project)") }
        let now = Date()
        let rootCertificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(rootKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectAlternativeNames([.uniformResourceIdentifier("spiffe://\(project)")])
            },
            issuerPrivateKey: .init(rootKey))
        let leafKey = P256.Signing.PrivateKey()
        let account = try ServiceAccountName(email: email)
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(3_600),
            issuer: rootName, subject: try DistinguishedName { CommonName(email) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(isCertificateAuthority ? BasicConstraints.isCertificateAuthority(maxPathLength: 0) : .notCertificateAuthority)
                Critical(keyUsage)
                try ExtendedKeyUsage(extendedKeyUsage)
                SubjectAlternativeNames([.rfc822Name(email), .uniformResourceIdentifier(account.spiffeID)])
            },
            issuerPrivateKey: .init(rootKey))
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        var bundle = [try ProjectRoot(certificate: rootCertificate)]
        for other in trusting { bundle.append(try ProjectRoot(certificate: try authority(other).certificate)) }
        let credential = ALTSCredential(
            uncheckedServiceAccount: account, certificate: leaf, certificateDER: serializer.serializedBytes,
            privateKey: leafKey, trustBundle: TrustBundle(entries: bundle), directory: CredentialDirectory(root + "/unused"))
        return (credential, rootCertificate)
    }

    private func write(_ text: String, to path: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

/// A fresh directory under the system temporary directory.
public func makeScratchDirectory(prefix: String = "swift-alts") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
