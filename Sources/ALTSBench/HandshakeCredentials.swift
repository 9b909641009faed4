import ALTSIdentity
import ArgumentParser
import Foundation

/// The project and the two service accounts every handshake benchmark authenticates with.
enum HandshakeBenchCredentials {
    static let project = "alts-bench"
    static let serverName = "bench-server"
    static let clientName = "bench-client"

    struct Paths {
        let server: String
        let client: String
    }

    /// `DIRECTORY/projects/` (the authority), `DIRECTORY/server/` and `DIRECTORY/client/` (credential
    /// directories whose trust bundles hold the project root), as an operator would lay them out.
    static func make(in directory: String) throws -> Paths {
        let authority = try ProjectAuthority.create(projectID: project)
        try authority.save(projectsDirectory: directory + "/projects")
        let paths = Paths(server: directory + "/server", client: directory + "/client")
        // A day is far beyond any run; long enough that clock skew never matters.
        for (name, path) in [(serverName, paths.server), (clientName, paths.client)] {
            let issued = try authority.issue(try ServiceAccountName(name: name, project: project), ttl: 24 * 60 * 60)
            try CredentialDirectory(path).install(issued)
        }
        return paths
    }

    static func email(_ name: String) -> String {
        "\(name)@\(project)\(ServiceAccountName.emailDomainSuffix)"
    }

    /// Loads a credential and refuses one that a peer would reject, so a stale directory fails
    /// here with its reason instead of as a benchmark full of handshake failures.
    static func load(_ path: String) throws -> ALTSCredential {
        let credential = try ALTSCredential.load(directory: path)
        try credential.validate()
        return credential
    }
}

/// A private, fresh directory under the system temporary directory (mkdtemp: mode 0700, and no
/// race with another process picking the same name).
func makeHandshakeBenchTemporaryDirectory() throws -> String {
    var template = Array((FileManager.default.temporaryDirectory.path + "/alts-bench-XXXXXX").utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer in
        mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
    }
    guard let created else { throw ValidationError("mkdtemp failed: errno \(errno)") }
    return created
}

/// Writes the credentials the two-process benchmark loads from disk.
struct HandshakeMakeCredentials: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-credentials",
        abstract: "Create a project and server/client service-account credentials for the handshake benchmarks.")

    @Option(help: "Directory to create them in; it must not exist yet, or be empty.")
    var dir: String

    func run() throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: dir) {
            guard try manager.contentsOfDirectory(atPath: dir).isEmpty else {
                throw ValidationError("\(dir) is not empty")
            }
        } else {
            try manager.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let paths = try HandshakeBenchCredentials.make(in: dir)
        print("server=\(paths.server) client=\(paths.client)")
    }
}
