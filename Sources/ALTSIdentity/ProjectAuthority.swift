import Crypto
import Foundation
import X509

/// A project's root CA together with its private key: what issues that
/// project's service accounts. Lives in `PROJECTS_DIR/PROJECT_ID/`.
public struct ProjectAuthority: Sendable {
    public static let certificateFileName = "ca.pem"
    public static let keyFileName = "ca.key"
    public static let defaultValidity: TimeInterval = 3652 * 24 * 60 * 60

    public let projectID: String
    public let certificate: Certificate
    private let privateKey: P256.Signing.PrivateKey

    /// Generates a new root key and self-signed root certificate, in memory.
    public static func create(
        projectID: String,
        now: Date = Date(),
        validity: TimeInterval = defaultValidity
    ) throws(IdentityError) -> ProjectAuthority {
        try ServiceAccountName.validateProjectID(projectID)
        let key = P256.Signing.PrivateKey()
        let certificate = try CertificateTemplates.projectRoot(
            project: projectID,
            key: key,
            now: now,
            validity: validity
        )
        return ProjectAuthority(projectID: projectID, certificate: certificate, privateKey: key)
    }

    /// Loads `projectsDirectory/projectID/{ca.pem,ca.key}`.
    public static func load(projectsDirectory: String, projectID: String) throws(IdentityError) -> ProjectAuthority {
        try ServiceAccountName.validateProjectID(projectID)
        let directory = FileSystem.join(projectsDirectory, projectID)
        let loaded = try PEMFiles.readCertificate(FileSystem.join(directory, certificateFileName))
        let root = try ProjectRoot(certificate: loaded.certificate, der: loaded.der)
        guard root.project == projectID else {
            throw IdentityError(.notAProjectRoot("\(directory)/\(certificateFileName) is the root of project '\(root.project)'"))
        }
        let key = try PEMFiles.readPrivateKey(FileSystem.join(directory, keyFileName))
        guard Certificate.PublicKey(key.publicKey) == loaded.certificate.publicKey else {
            throw IdentityError(.keyCertificateMismatch)
        }
        return ProjectAuthority(projectID: projectID, certificate: loaded.certificate, privateKey: key)
    }

    public static func directory(projectsDirectory: String, projectID: String) -> String {
        FileSystem.join(projectsDirectory, projectID)
    }

    /// Writes the project into `projectsDirectory/projectID/`; refuses to touch an existing project.
    public func save(projectsDirectory: String) throws(IdentityError) {
        try FileSystem.makeDirectory(projectsDirectory, mode: 0o700)
        let directory = Self.directory(projectsDirectory: projectsDirectory, projectID: projectID)
        try FileSystem.makeNewDirectory(directory, mode: 0o700)
        try FileSystem.createNew(
            FileSystem.join(directory, Self.keyFileName),
            contents: PEMFiles.encode(privateKey),
            mode: 0o600
        )
        try FileSystem.createNew(
            FileSystem.join(directory, Self.certificateFileName),
            contents: PEMFiles.encode(certificate),
            mode: 0o644
        )
    }

    /// Issues a certificate for `account` with a fresh key pair.
    public func issue(
        _ account: ServiceAccountName,
        ttl: TimeInterval,
        now: Date = Date()
    ) throws(IdentityError) -> IssuedServiceAccount {
        guard account.project == projectID else {
            throw IdentityError(.projectMismatch(certificateProject: account.project, issuerProject: projectID))
        }
        guard ttl > 0 else {
            throw IdentityError(.invalidDuration("\(ttl)s"))
        }
        let key = P256.Signing.PrivateKey()
        let certificate = try CertificateTemplates.serviceAccount(
            account,
            publicKey: key.publicKey,
            root: self.certificate,
            rootKey: privateKey,
            now: now,
            ttl: ttl
        )
        return IssuedServiceAccount(
            serviceAccount: account,
            certificate: certificate,
            certificateDER: try PEMFiles.derBytes(certificate),
            issuingRoot: self.certificate,
            privateKey: key
        )
    }
}

/// A freshly issued service-account certificate and key, not yet on disk.
public struct IssuedServiceAccount: Sendable {
    public let serviceAccount: ServiceAccountName
    public let certificate: Certificate
    public let certificateDER: [UInt8]
    public let issuingRoot: Certificate
    let privateKey: P256.Signing.PrivateKey
}
