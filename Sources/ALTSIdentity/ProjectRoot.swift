import Crypto
import X509

/// A trust bundle entry: a swift-alts project's self-signed root, checked once
/// when loaded so that per-handshake verification only looks things up.
public struct ProjectRoot: Sendable {
    static let commonNamePrefix = "swift-alts project "

    public let project: String
    public let certificate: Certificate
    let der: [UInt8]
    /// Rendered once: `VerifiedPeer.issuer` needs it on every handshake.
    let subjectDescription: String

    public var fingerprintSHA256: String { Fingerprint.sha256(der) }

    /// Reads and checks a root certificate PEM file.
    public static func load(path: String) throws(IdentityError) -> ProjectRoot {
        let loaded = try PEMFiles.readCertificate(path)
        return try ProjectRoot(certificate: loaded.certificate, der: loaded.der)
    }

    public init(certificate: Certificate) throws(IdentityError) {
        try self.init(certificate: certificate, der: PEMFiles.derBytes(certificate))
    }

    static func commonName(forProject project: String) -> String {
        commonNamePrefix + project
    }

    static func spiffeTrustDomain(forProject project: String) -> String {
        "spiffe://\(project)"
    }

    /// Accepts only certificates shaped like `altsctl projects create` makes them;
    /// the project named by the SAN URI and the CN must agree because the URI is
    /// what scopes which accounts this root may vouch for.
    init(certificate: Certificate, der: [UInt8]) throws(IdentityError) {
        let extensions = certificate.extensions
        let basicConstraints: BasicConstraints?
        let keyUsage: KeyUsage?
        let names: SubjectAlternativeNames?
        do {
            basicConstraints = try extensions.basicConstraints
            keyUsage = try extensions.keyUsage
            names = try extensions.subjectAlternativeNames
        } catch {
            throw IdentityError(.malformedCertificate("cannot decode extensions: \(error)"))
        }
        guard case .isCertificateAuthority = basicConstraints else {
            throw IdentityError(.notAProjectRoot("basicConstraints is not CA:true"))
        }
        guard let keyUsage, keyUsage.keyCertSign else {
            throw IdentityError(.notAProjectRoot("keyUsage lacks keyCertSign"))
        }
        guard P256.Signing.PublicKey(certificate.publicKey) != nil else {
            throw IdentityError(.unsupportedKeyAlgorithm(certificate.publicKey.algorithmName))
        }
        guard certificate.issuer == certificate.subject,
            certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        else {
            throw IdentityError(.notAProjectRoot("not self-signed"))
        }
        let uris = (names ?? SubjectAlternativeNames()).compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("spiffe://") { return uri }
            return nil
        }
        guard uris.count == 1, let uri = uris.first else {
            throw IdentityError(.notAProjectRoot("expected exactly one spiffe://PROJECT_ID URI, found \(uris.count)"))
        }
        let project = String(uri.dropFirst("spiffe://".count))
        guard ServiceAccountName.isValidLabel(project) else {
            throw IdentityError(.notAProjectRoot("URI \(uri) does not name a valid project ID"))
        }
        let expectedCommonName = Self.commonName(forProject: project)
        guard certificate.subject.commonNames == [expectedCommonName] else {
            throw IdentityError(.notAProjectRoot("subject CN must be '\(expectedCommonName)'"))
        }
        self.project = project
        self.certificate = certificate
        self.der = der
        self.subjectDescription = certificate.subject.description
    }
}

extension DistinguishedName {
    var commonNames: [String] {
        self.flatMap { $0 }.compactMap { attribute in
            attribute.type == .RDNAttributeType.commonName ? String(attribute.value) : nil
        }
    }
}
