import Crypto
import Foundation
import SwiftASN1
import X509

/// Builds certificates directly with swift-certificates, so tests can make the
/// malformed, misissued and cross-project certificates `altsctl` never would.
struct TestRoot {
    let project: String
    let key: P256.Signing.PrivateKey
    let certificate: Certificate

    var pem: String { try! certificate.serializeAsPEM().pemString + "\n" }
}

struct TestLeaf {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate
    let der: [UInt8]

    var pem: String { try! certificate.serializeAsPEM().pemString + "\n" }
}

enum TestPKI {
    /// A fixed, whole-second instant: certificate times have one-second resolution.
    static let epoch = Date(timeIntervalSince1970: 1_900_000_000)

    static func root(
        project: String,
        commonName: String? = nil,
        notBefore: Date = epoch.addingTimeInterval(-86_400),
        notAfter: Date = epoch.addingTimeInterval(365 * 86_400),
        key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()
    ) throws -> TestRoot {
        let signingKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            CommonName(commonName ?? "swift-alts project \(project)")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectAlternativeNames([.uniformResourceIdentifier("spiffe://\(project)")])
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: signingKey.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: signingKey
        )
        return TestRoot(project: project, key: key, certificate: certificate)
    }

    static func leaf(
        email: String?,
        uris: [String]? = nil,
        issuer: TestRoot,
        notBefore: Date = epoch.addingTimeInterval(-300),
        notAfter: Date = epoch.addingTimeInterval(3600),
        basicConstraints: BasicConstraints = .notCertificateAuthority,
        keyUsage: KeyUsage = KeyUsage(digitalSignature: true),
        extendedKeyUsage: [ExtendedKeyUsage.Usage]? = [.serverAuth, .clientAuth],
        key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()
    ) throws -> TestLeaf {
        var names: [GeneralName] = []
        if let email {
            names.append(.rfc822Name(email))
        }
        if let uris {
            names += uris.map { .uniformResourceIdentifier($0) }
        } else if let email, let at = email.firstIndex(of: "@") {
            let name = email[..<at]
            let project = email[email.index(after: at)...].split(separator: ".").first ?? ""
            names.append(.uniformResourceIdentifier("spiffe://\(project)/sa/\(name)"))
        }
        let extensions = try Certificate.Extensions {
            Critical(basicConstraints)
            Critical(keyUsage)
            if let extendedKeyUsage {
                try ExtendedKeyUsage(extendedKeyUsage)
            }
            SubjectAlternativeNames(names)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: issuer.certificate.subject,
            subject: try DistinguishedName { CommonName(email ?? "no-email") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(issuer.key)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return TestLeaf(key: key, certificate: certificate, der: serializer.serializedBytes)
    }
}
