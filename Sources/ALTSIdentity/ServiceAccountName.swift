/// A service account, the identity a peer proves in the handshake.
///
/// Names and project IDs are restricted to `[a-z0-9-]`, 1-63 characters,
/// starting with a letter: they become path components, DNS-like labels in
/// SPIFFE IDs and file names in trust bundles, so anything else (dots, `/`,
/// `@`, upper case, Unicode look-alikes) is refused rather than escaped.
public struct ServiceAccountName: Hashable, Sendable, CustomStringConvertible {
    public static let emailDomainSuffix = ".iam.gserviceaccount.com"

    public let name: String
    public let project: String

    public var email: String { "\(name)@\(project)\(Self.emailDomainSuffix)" }
    public var spiffeID: String { "spiffe://\(project)/sa/\(name)" }
    public var description: String { email }

    public init(name: String, project: String) throws(IdentityError) {
        guard Self.isValidLabel(name) else {
            throw IdentityError(.invalidServiceAccount(name))
        }
        guard Self.isValidLabel(project) else {
            throw IdentityError(.invalidProjectID(project))
        }
        self.name = name
        self.project = project
    }

    /// Parses `NAME@PROJECT.iam.gserviceaccount.com`.
    public init(email: String) throws(IdentityError) {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasSuffix(Self.emailDomainSuffix) else {
            throw IdentityError(.invalidServiceAccount(email))
        }
        let name = String(parts[0])
        let project = String(parts[1].dropLast(Self.emailDomainSuffix.count))
        guard Self.isValidLabel(name), Self.isValidLabel(project) else {
            throw IdentityError(.invalidServiceAccount(email))
        }
        self.name = name
        self.project = project
    }

    /// Validates a project ID with the same rule as account names.
    public static func validateProjectID(_ project: String) throws(IdentityError) {
        guard isValidLabel(project) else {
            throw IdentityError(.invalidProjectID(project))
        }
    }

    static func isValidLabel(_ label: String) -> Bool {
        let bytes = Array(label.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, isLowerLetter(first) else {
            return false
        }
        return bytes.allSatisfy { isLowerLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
