import Crypto
import SwiftASN1
import X509

/// Reading and writing the PEM files of projects and credential directories.
enum PEMFiles {
    struct LoadedCertificate: Sendable {
        let certificate: Certificate
        let der: [UInt8]
    }

    static func readCertificate(_ path: String) throws(IdentityError) -> LoadedCertificate {
        try parseCertificate(pem: FileSystem.readString(path), source: path)
    }

    static func parseCertificate(pem: String, source: String) throws(IdentityError) -> LoadedCertificate {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw IdentityError(.malformedPEM(path: source))
        }
        guard document.discriminator == Certificate.defaultPEMDiscriminator else {
            throw IdentityError(.malformedPEM(path: source))
        }
        return try parseCertificate(der: document.derBytes)
    }

    static func parseCertificate(der: [UInt8]) throws(IdentityError) -> LoadedCertificate {
        do {
            return LoadedCertificate(certificate: try Certificate(derEncoded: der), der: der)
        } catch {
            throw IdentityError(.malformedCertificate("cannot parse DER: \(error)"))
        }
    }

    /// Loads a P-256 private key, refusing it first if its file mode is too open.
    static func readPrivateKey(_ path: String) throws(IdentityError) -> P256.Signing.PrivateKey {
        try FileSystem.requirePrivateKeyMode(path)
        let pem = try FileSystem.readString(path)
        // Parse generically first so a P-384 or RSA key is reported as such
        // rather than as a corrupt file.
        let generic: Certificate.PrivateKey
        do {
            generic = try Certificate.PrivateKey(pemEncoded: pem)
        } catch {
            throw IdentityError(.malformedPrivateKey(path: path))
        }
        guard P256.Signing.PublicKey(generic.publicKey) != nil else {
            throw IdentityError(.unsupportedKeyAlgorithm(generic.publicKey.algorithmName))
        }
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw IdentityError(.malformedPrivateKey(path: path))
        }
    }

    static func encode(_ certificate: Certificate) throws(IdentityError) -> [UInt8] {
        do {
            return Array((try certificate.serializeAsPEM().pemString + "\n").utf8)
        } catch {
            throw IdentityError(.malformedCertificate("cannot serialize: \(error)"))
        }
    }

    static func encode(_ key: P256.Signing.PrivateKey) -> [UInt8] {
        Array((key.pemRepresentation + "\n").utf8)
    }

    static func derBytes(_ certificate: Certificate) throws(IdentityError) -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        } catch {
            throw IdentityError(.malformedCertificate("cannot serialize: \(error)"))
        }
    }
}

extension Certificate.PublicKey {
    /// "P384", "RSA2048", "Ed25519": the key type without swift-certificates' ".PublicKey" suffix.
    var algorithmName: String {
        let text = description
        return text.hasSuffix(".PublicKey") ? String(text.dropLast(".PublicKey".count)) : text
    }
}
