import Crypto
import X509

/// What a service-account certificate must look like, independent of who
/// signed it or when it is checked.
struct LeafProfile: Sendable {
    let serviceAccount: ServiceAccountName
    let publicKey: P256.Signing.PublicKey

    init(_ certificate: Certificate) throws(IdentityError) {
        let extensions = certificate.extensions
        let basicConstraints: BasicConstraints?
        let keyUsage: KeyUsage?
        let extendedKeyUsage: ExtendedKeyUsage?
        let names: SubjectAlternativeNames?
        do {
            basicConstraints = try extensions.basicConstraints
            keyUsage = try extensions.keyUsage
            extendedKeyUsage = try extensions.extendedKeyUsage
            names = try extensions.subjectAlternativeNames
        } catch {
            throw IdentityError(.malformedCertificate("cannot decode extensions: \(error)"))
        }

        if case .isCertificateAuthority = basicConstraints {
            throw IdentityError(.notALeafCertificate)
        }
        guard let keyUsage else {
            throw IdentityError(.wrongKeyUsage("no keyUsage extension"))
        }
        guard !keyUsage.keyCertSign else {
            throw IdentityError(.notALeafCertificate)
        }
        guard keyUsage.digitalSignature else {
            throw IdentityError(.wrongKeyUsage("keyUsage lacks digitalSignature"))
        }
        // Every ALTS peer is both client and server over its lifetime, so a
        // certificate limited to one role is a misissued one.
        guard let extendedKeyUsage else {
            throw IdentityError(.wrongKeyUsage("no extendedKeyUsage extension"))
        }
        guard extendedKeyUsage.contains(.serverAuth) else {
            throw IdentityError(.wrongKeyUsage("extendedKeyUsage lacks serverAuth"))
        }
        guard extendedKeyUsage.contains(.clientAuth) else {
            throw IdentityError(.wrongKeyUsage("extendedKeyUsage lacks clientAuth"))
        }
        guard let publicKey = P256.Signing.PublicKey(certificate.publicKey) else {
            throw IdentityError(.unsupportedKeyAlgorithm(certificate.publicKey.algorithmName))
        }

        let allNames = Array(names ?? SubjectAlternativeNames())
        let emails = allNames.compactMap { name -> String? in
            if case .rfc822Name(let email) = name { return email }
            return nil
        }
        guard let email = emails.first else {
            throw IdentityError(.missingServiceAccountSAN)
        }
        guard emails.count == 1 else {
            throw IdentityError(.multipleServiceAccountSANs(emails))
        }
        let account = try ServiceAccountName(email: email)
        let spiffeURIs = allNames.compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("spiffe://") { return uri }
            return nil
        }
        guard spiffeURIs == [account.spiffeID] else {
            let offending = spiffeURIs.first(where: { $0 != account.spiffeID }) ?? ""
            throw IdentityError(.spiffeMismatch(email: email, uri: offending))
        }
        self.serviceAccount = account
        self.publicKey = publicKey
    }
}
