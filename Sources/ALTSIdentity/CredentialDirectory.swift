/// The on-disk layout of a credential directory (CREDDIR):
///
///     service-account.pem          leaf certificate
///     service-account.key          leaf private key (PKCS#8, mode 0600)
///     trust-bundle/PROJECT_ID.pem  one root per trusted project
public struct CredentialDirectory: Sendable {
    public static let certificateFileName = "service-account.pem"
    public static let keyFileName = "service-account.key"
    public static let trustBundleDirectoryName = "trust-bundle"

    public let path: String

    public init(_ path: String) {
        self.path = path
    }

    public var certificatePath: String { FileSystem.join(path, Self.certificateFileName) }
    public var keyPath: String { FileSystem.join(path, Self.keyFileName) }
    public var trustBundlePath: String { FileSystem.join(path, Self.trustBundleDirectoryName) }

    public func trustBundleEntryPath(forProject project: String) -> String {
        FileSystem.join(trustBundlePath, project + ".pem")
    }

    /// Every file whose change means the credential should be reloaded.
    func watchedFiles() -> [String] {
        let entries = (try? FileSystem.list(trustBundlePath)) ?? []
        return [certificatePath, keyPath]
            + entries.filter(TrustBundle.isEntryFileName).map { FileSystem.join(trustBundlePath, $0) }
    }
}
