import ALTSIdentity
import Foundation

/// Two service accounts of one project, issued once per fuzzing process into a scratch
/// directory that is removed at exit: the handshake targets need real keys and certificates
/// so that the parsers behind certificate and signature checks are reached.
public final class FuzzCredentials: Sendable {
    public static let shared: FuzzCredentials = {
        do {
            return try FuzzCredentials()
        } catch {
            fatalError("cannot issue fuzzing credentials: \(error)")
        }
    }()

    public let client: CredentialStore
    public let server: CredentialStore

    private init() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("swift-alts-fuzz-\(getpid())").path
        scratchDirectory = root
        atexit { if let root = scratchDirectory { try? FileManager.default.removeItem(atPath: root) } }
        let authority = try ProjectAuthority.create(projectID: "fuzz-project")
        func install(_ name: String) throws -> CredentialStore {
            let issued = try authority.issue(ServiceAccountName(name: name, project: "fuzz-project"), ttl: 86_400)
            let directory = root + "/" + name
            try CredentialDirectory(directory).install(issued)
            return try CredentialStore(directory: directory)
        }
        client = try install("fuzz-client")
        server = try install("fuzz-server")
    }
}

/// Read by the exit handler, which cannot capture.
nonisolated(unsafe) private var scratchDirectory: String?
