import Crypto
import Foundation
import X509

/// The two certificate shapes swift-alts issues. `ProjectRoot` and
/// `LeafProfile` accept exactly what these produce.
enum CertificateTemplates {
    /// Backdating absorbs clock differences between the issuing host and peers
    /// that verify the certificate right after issuance.
    static let backdate: TimeInterval = 5 * 60

    static func projectRoot(
        project: String,
        key: P256.Signing.PrivateKey,
        now: Date,
        validity: TimeInterval
    ) throws(IdentityError) -> Certificate {
        let signingKey = Certificate.PrivateKey(key)
        do {
            let name = try DistinguishedName {
                CommonName(ProjectRoot.commonName(forProject: project))
            }
            let extensions = try Certificate.Extensions {
                // Path length 0: a project root signs service accounts only,
                // never another CA.
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: signingKey.publicKey)
                SubjectAlternativeNames([.uniformResourceIdentifier(ProjectRoot.spiffeTrustDomain(forProject: project))])
            }
            return try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: signingKey.publicKey,
                notValidBefore: now.addingTimeInterval(-backdate),
                notValidAfter: now.addingTimeInterval(validity),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: signingKey
            )
        } catch {
            throw IdentityError(.malformedCertificate("cannot build project root: \(error)"))
        }
    }

    static func serviceAccount(
        _ account: ServiceAccountName,
        publicKey: P256.Signing.PublicKey,
        root: Certificate,
        rootKey: P256.Signing.PrivateKey,
        now: Date,
        ttl: TimeInterval
    ) throws(IdentityError) -> Certificate {
        let subjectKey = Certificate.PublicKey(publicKey)
        do {
            let authorityKeyID =
                try root.extensions.subjectKeyIdentifier?.keyIdentifier
                ?? SubjectKeyIdentifier(hash: root.publicKey).keyIdentifier
            let subject = try DistinguishedName {
                CommonName(account.email)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: subjectKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
                SubjectAlternativeNames([
                    .rfc822Name(account.email),
                    .uniformResourceIdentifier(account.spiffeID),
                ])
            }
            return try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: subjectKey,
                notValidBefore: now.addingTimeInterval(-backdate),
                notValidAfter: now.addingTimeInterval(ttl),
                issuer: root.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(rootKey)
            )
        } catch {
            throw IdentityError(.malformedCertificate("cannot build service-account certificate: \(error)"))
        }
    }
}
