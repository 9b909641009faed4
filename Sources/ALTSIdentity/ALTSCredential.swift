import Crypto
import Foundation
import X509

/// What sits in a credential directory (CREDDIR), loaded and self-checked.
public struct ALTSCredential: Sendable {
    public let serviceAccount: ServiceAccountName
    public let certificate: Certificate
    public let certificateDER: [UInt8]
    public let trustBundle: TrustBundle
    public let directory: CredentialDirectory
    private let privateKey: P256.Signing.PrivateKey

    /// Loads CREDDIR, checking that the certificate is a well-formed
    /// service-account certificate and that the key is its key.
    ///
    /// Expiry and the chain to the trust bundle are deliberately not checked
    /// here, so tools can still show what an expired credential is; call
    /// `validate(now:clockSkew:)` before using it. `now` is accepted for
    /// symmetry with `validate` and is currently unused.
    public static func load(directory: String, now: Date = Date()) throws(IdentityError) -> ALTSCredential {
        let layout = CredentialDirectory(directory)
        let leaf = try PEMFiles.readCertificate(layout.certificatePath)
        let profile = try LeafProfile(leaf.certificate)
        let key = try PEMFiles.readPrivateKey(layout.keyPath)
        guard key.publicKey.rawRepresentation == profile.publicKey.rawRepresentation else {
            throw IdentityError(.keyCertificateMismatch)
        }
        let bundle = try TrustBundle.load(directory: layout.trustBundlePath)
        return ALTSCredential(
            serviceAccount: profile.serviceAccount,
            certificate: leaf.certificate,
            certificateDER: leaf.der,
            trustBundle: bundle,
            directory: layout,
            privateKey: key
        )
    }

    /// Checks the credential the way a peer will: chain to its own trust
    /// bundle, project binding and validity window.
    @discardableResult
    public func validate(now: Date = Date(), clockSkew: TimeInterval = 300) throws(IdentityError) -> VerifiedPeer {
        try trustBundle.verifyPeer(certificateDER: certificateDER, now: now, clockSkew: clockSkew)
    }

    /// ECDSA P-256 with SHA-256 over `message`; the signature is DER-encoded.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: message).derRepresentation)
    }

    public var fingerprintSHA256: String { Fingerprint.sha256(certificateDER) }
}

extension ALTSCredential {
    /// Builds a credential without `load`'s profile checks, so tests can present the
    /// misissued certificates (wrong key usage, CA leaves) that `load` refuses.
    init(
        uncheckedServiceAccount serviceAccount: ServiceAccountName, certificate: Certificate, certificateDER: [UInt8],
        privateKey: P256.Signing.PrivateKey, trustBundle: TrustBundle, directory: CredentialDirectory
    ) {
        self.init(
            serviceAccount: serviceAccount, certificate: certificate, certificateDER: certificateDER,
            trustBundle: trustBundle, directory: directory, privateKey: privateKey)
    }
}
