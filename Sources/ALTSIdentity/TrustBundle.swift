import Crypto
import Foundation
import X509

/// The project roots a credential trusts: its own project's, plus those of
/// federated projects.
///
/// Verification is synchronous and explicit (no swift-certificates `Verifier`)
/// because the handshake core is a synchronous state machine. Chains are
/// exactly root -> leaf; swift-alts has no intermediates.
public struct TrustBundle: Sendable {
    public let roots: [Certificate]
    public let entries: [ProjectRoot]
    private let rootIndicesBySubject: [DistinguishedName: [Int]]
    private let signatureCache: SignatureCache

    /// Trusted project IDs, sorted.
    public var projects: [String] {
        Array(Set(entries.map(\.project))).sorted()
    }

    public init(roots: [Certificate]) throws(IdentityError) {
        var entries: [ProjectRoot] = []
        for root in roots {
            entries.append(try ProjectRoot(certificate: root))
        }
        self.init(entries: entries)
    }

    public init(entries: [ProjectRoot], cacheCapacity: Int = 1024) {
        self.entries = entries
        self.roots = entries.map(\.certificate)
        var bySubject: [DistinguishedName: [Int]] = [:]
        for (index, entry) in entries.enumerated() {
            bySubject[entry.certificate.subject, default: []].append(index)
        }
        self.rootIndicesBySubject = bySubject
        self.signatureCache = SignatureCache(capacity: cacheCapacity)
    }

    /// The root of `project`, if trusted.
    public func root(forProject project: String) -> Certificate? {
        entries.first(where: { $0.project == project })?.certificate
    }

    /// Verifies a peer's leaf certificate against this bundle.
    ///
    /// `clockSkew` widens both ends of every validity window, to tolerate
    /// peers whose clocks disagree by up to that many seconds.
    public func verifyPeer(
        certificateDER: [UInt8],
        now: Date,
        clockSkew: TimeInterval = 300
    ) throws(IdentityError) -> VerifiedPeer {
        let leaf = try PEMFiles.parseCertificate(der: certificateDER).certificate
        let profile = try LeafProfile(leaf)
        let digest = SHA256.hash(data: certificateDER)
        let root = entries[try issuingRootIndex(of: leaf, digest: digest)]
        guard profile.serviceAccount.project == root.project else {
            throw IdentityError(
                .projectMismatch(certificateProject: profile.serviceAccount.project, issuerProject: root.project)
            )
        }
        try Self.checkValidity(of: leaf, now: now, clockSkew: clockSkew)
        try Self.checkValidity(of: root.certificate, now: now, clockSkew: clockSkew)
        return VerifiedPeer(
            serviceAccount: profile.serviceAccount,
            issuer: root.subjectDescription,
            notBefore: leaf.notValidBefore,
            notAfter: leaf.notValidAfter,
            fingerprintSHA256: Fingerprint.format(digest),
            certificate: leaf,
            publicKey: profile.publicKey
        )
    }

    /// Number of leaf certificates whose signature check is currently cached.
    public var cachedSignatureCount: Int { signatureCache.count }

    private func issuingRootIndex(of leaf: Certificate, digest: SHA256Digest) throws(IdentityError) -> Int {
        if let cached = signatureCache.rootIndex(for: digest) {
            return cached
        }
        guard let candidates = rootIndicesBySubject[leaf.issuer] else {
            throw IdentityError(.untrustedIssuer(issuer: leaf.issuer.description))
        }
        for index in candidates
        where entries[index].certificate.publicKey.isValidSignature(leaf.signature, for: leaf) {
            signatureCache.remember(digest, verifiedBy: index)
            return index
        }
        throw IdentityError(.badSignature)
    }

    static func checkValidity(of certificate: Certificate, now: Date, clockSkew: TimeInterval) throws(IdentityError) {
        if now.addingTimeInterval(clockSkew) < certificate.notValidBefore {
            throw IdentityError(.certificateNotYetValid(notBefore: certificate.notValidBefore, now: now))
        }
        if now.addingTimeInterval(-clockSkew) > certificate.notValidAfter {
            throw IdentityError(.certificateExpired(notAfter: certificate.notValidAfter, now: now))
        }
    }
}
