import Foundation

/// Every way an identity, credential or trust decision can fail.
///
/// One `Kind` case per failure so callers (and tests) can match exactly;
/// `description` is the one-line message shown to operators. No case carries
/// private key material, so no message can leak it.
public struct IdentityError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case invalidServiceAccount(String)
        case invalidProjectID(String)
        case invalidDuration(String)
        case fileNotFound(path: String)
        case unreadableFile(path: String, reason: String)
        case writeFailed(path: String, reason: String)
        case alreadyExists(path: String)
        case malformedPEM(path: String)
        case malformedCertificate(String)
        case malformedPrivateKey(path: String)
        case unsupportedKeyAlgorithm(String)
        case insecureKeyFileMode(path: String, mode: UInt32)
        case keyCertificateMismatch
        case notAProjectRoot(String)
        case trustBundleEntryMismatch(path: String, project: String)
        case noTrustBundle(path: String)
        case projectNotInTrustBundle(String)
        case cannotRemoveIssuingProject(String)
        case untrustedIssuer(issuer: String)
        case badSignature
        case certificateExpired(notAfter: Date, now: Date)
        case certificateNotYetValid(notBefore: Date, now: Date)
        case notALeafCertificate
        case wrongKeyUsage(String)
        case missingServiceAccountSAN
        case multipleServiceAccountSANs([String])
        case spiffeMismatch(email: String, uri: String)
        case projectMismatch(certificateProject: String, issuerProject: String)
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .invalidServiceAccount(let value):
            return "invalid service account '\(value)': expected NAME@PROJECT.iam.gserviceaccount.com where NAME and PROJECT are 1-63 characters of [a-z0-9-] starting with a letter"
        case .invalidProjectID(let value):
            return "invalid project ID '\(value)': expected 1-63 characters of [a-z0-9-] starting with a letter"
        case .invalidDuration(let value):
            return "invalid duration '\(value)': expected a positive Go-style duration such as 90s, 30m, 24h, 7d or 1h30m"
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write: \(reason)"
        case .alreadyExists(let path):
            return "\(path) already exists; refusing to overwrite it"
        case .malformedPEM(let path):
            return "\(path): not a valid PEM file"
        case .malformedCertificate(let reason):
            return "malformed certificate: \(reason)"
        case .malformedPrivateKey(let path):
            return "\(path): not a valid PKCS#8 private key"
        case .unsupportedKeyAlgorithm(let algorithm):
            return "unsupported key algorithm \(algorithm): swift-alts uses ECDSA P-256 only"
        case .insecureKeyFileMode(let path, let mode):
            return "\(path): private key is accessible by group or others (mode \(String(mode, radix: 8))); run chmod 600 \(path)"
        case .keyCertificateMismatch:
            return "the private key does not match the certificate's public key"
        case .notAProjectRoot(let reason):
            return "not a swift-alts project root certificate: \(reason)"
        case .trustBundleEntryMismatch(let path, let project):
            return "\(path) holds the root of project '\(project)'; trust-bundle files must be named PROJECT_ID.pem"
        case .noTrustBundle(let path):
            return "\(path): no trust bundle (expected one PROJECT_ID.pem per trusted project)"
        case .projectNotInTrustBundle(let project):
            return "project '\(project)' is not in the trust bundle"
        case .cannotRemoveIssuingProject(let project):
            return "refusing to remove project '\(project)': it issued this credential's own certificate"
        case .untrustedIssuer(let issuer):
            return "certificate issuer '\(issuer)' is not in the trust bundle"
        case .badSignature:
            return "certificate signature does not verify with the trusted project root's key"
        case .certificateExpired(let notAfter, let now):
            return "certificate expired at \(ISO8601Time.format(notAfter)) (now \(ISO8601Time.format(now)))"
        case .certificateNotYetValid(let notBefore, let now):
            return "certificate is not valid before \(ISO8601Time.format(notBefore)) (now \(ISO8601Time.format(now)))"
        case .notALeafCertificate:
            return "certificate is a CA certificate, not a service-account certificate"
        case .wrongKeyUsage(let reason):
            return "certificate has the wrong key usage: \(reason)"
        case .missingServiceAccountSAN:
            return "certificate names no service account (no rfc822Name subject alternative name)"
        case .multipleServiceAccountSANs(let emails):
            return "certificate names more than one service account: \(emails.joined(separator: ", "))"
        case .spiffeMismatch(let email, let uri):
            let shown = uri.isEmpty ? "none" : "'\(uri)'"
            return "certificate SPIFFE ID \(shown) does not match its service account \(email)"
        case .projectMismatch(let certificateProject, let issuerProject):
            return "certificate claims project '\(certificateProject)' but was issued by the root of project '\(issuerProject)'"
        }
    }
}
