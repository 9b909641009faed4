import Crypto
import Foundation
import X509

/// A peer certificate that passed `TrustBundle.verifyPeer`: who the peer is,
/// and the key with which it must prove it.
public struct VerifiedPeer: Sendable {
    public let serviceAccount: ServiceAccountName
    /// Subject of the project root that issued the certificate, e.g. `CN=swift-alts project my-project`.
    public let issuer: String
    public let notBefore: Date
    public let notAfter: Date
    /// SHA-256 of the certificate DER, colon-separated upper-case hex as openssl prints it.
    public let fingerprintSHA256: String
    public let certificate: Certificate
    let publicKey: P256.Signing.PublicKey

    /// Checks an ECDSA P-256 / SHA-256 signature (DER-encoded) made with the peer's key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else {
            return false
        }
        return publicKey.isValidSignature(parsed, for: message)
    }
}
