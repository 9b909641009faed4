import ALTSIdentity
import ALTSNIO
import Foundation

/// Finds the credential directory a binary should use: `--credentials DIR`, then
/// `$ALTS_CREDENTIALS`, then `/etc/alts` (a VM's identity directory).
public enum CredentialsLocator {
    public static let environmentVariable = "ALTS_CREDENTIALS"
    public static let defaultDirectory = "/etc/alts"

    public static let howToCreate = """
        create one with: altsctl projects create PROJECT --dir PROJECTS && \
        altsctl service-accounts create NAME --project PROJECT --dir PROJECTS --out DIR
        """

    /// The directory to use, or an error that says where it looked and how to make one.
    public static func resolve(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        defaultDirectory: String = defaultDirectory
    ) throws(CredentialsLocatorError) -> String {
        if let flag {
            return try existing(flag, source: "--credentials")
        }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty {
            return try existing(fromEnvironment, source: "$\(environmentVariable)")
        }
        guard FileManager.default.fileExists(atPath: defaultDirectory) else {
            throw CredentialsLocatorError(
                message: "no ALTS credentials: pass --credentials DIR, set \(environmentVariable), or install them in \(defaultDirectory); \(howToCreate)")
        }
        return defaultDirectory
    }

    /// Loads the directory into a reloadable store, turning identity errors into one line.
    public static func store(flag: String?) throws(CredentialsLocatorError) -> CredentialStore {
        let directory = try resolve(flag: flag)
        do {
            return try CredentialStore(directory: directory)
        } catch {
            throw CredentialsLocatorError(message: "credentials in \(directory) are not usable: \(error)")
        }
    }

    private static func existing(_ path: String, source: String) throws(CredentialsLocatorError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CredentialsLocatorError(message: "credentials directory \(path) (from \(source)) does not exist; \(howToCreate)")
        }
        return path
    }
}

public struct CredentialsLocatorError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// How a binary runs its handshakes: with credentials it holds, or through a handshaker
/// service (`--handshakerService`), in which case it holds no private key at all.
public enum HandshakeMode {
    case credentials(CredentialStore)
    case handshakerService(ALTSAddress)

    public static func choose(credentials: String?, handshakerService: String?) throws -> HandshakeMode {
        if let handshakerService {
            guard credentials == nil else {
                throw CredentialsLocatorError(message: "use either --credentials or --handshakerService, not both")
            }
            return .handshakerService(try ALTSAddress(parsing: handshakerService))
        }
        return .credentials(try CredentialsLocator.store(flag: credentials))
    }
}
