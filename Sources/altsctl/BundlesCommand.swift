import ALTSIdentity
import ArgumentParser

struct BundlesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundles",
        abstract: "Federate with other projects by editing a credential's trust bundle.",
        subcommands: [Add.self, Remove.self, List.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trust another project's root (federation)."
        )

        @Option(help: "The other project's ca.pem.")
        var trust: String

        @Option(help: "Credential directory.")
        var dir: String

        func run() throws {
            let root = try ProjectRoot.load(path: trust)
            let credentialDirectory = CredentialDirectory(dir)
            let change = try credentialDirectory.addTrustedRoot(root)
            let entry = credentialDirectory.trustBundleEntryPath(forProject: root.project)
            switch change {
            case .added:
                print("Added project \(root.project) to the trust bundle: \(entry)")
            case .replaced:
                print("Replaced the root of project \(root.project) in the trust bundle: \(entry)")
            case .unchanged:
                print("Project \(root.project) is already in the trust bundle: \(entry)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop trusting a project (un-federation)."
        )

        @Option(help: "Project ID to remove.")
        var project: String?

        @Option(help: "Name the project by its root certificate instead.")
        var trust: String?

        @Option(help: "Credential directory.")
        var dir: String

        func validate() throws {
            guard (project == nil) != (trust == nil) else {
                throw ValidationError("give exactly one of --project and --trust")
            }
        }

        func run() throws {
            let credentialDirectory = CredentialDirectory(dir)
            let projectID: String
            if let trust {
                let root = try ProjectRoot.load(path: trust)
                let entry = credentialDirectory.trustBundleEntryPath(forProject: root.project)
                // Naming a root by file must not remove a different root that
                // happens to claim the same project.
                if let trusted = try? ProjectRoot.load(path: entry),
                    trusted.fingerprintSHA256 != root.fingerprintSHA256
                {
                    throw CLIFailure(message: "\(entry) holds a different root for project \(root.project) than \(trust)")
                }
                projectID = root.project
            } else {
                projectID = project ?? ""
            }
            try credentialDirectory.removeTrustedRoot(project: projectID)
            let entry = credentialDirectory.trustBundleEntryPath(forProject: projectID)
            print("Removed project \(projectID) from the trust bundle: \(entry)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the projects a credential trusts."
        )

        @Option(help: "Credential directory.")
        var dir: String

        func run() throws {
            let credentialDirectory = CredentialDirectory(dir)
            let issuingProject = credentialDirectory.issuingProject()
            for root in try credentialDirectory.trustedRoots() {
                let marker = root.project == issuingProject ? " (issuer of this credential)" : ""
                print(
                    "\(root.project)\(marker): not after \(ISO8601Time.format(root.certificate.notValidAfter)), SHA-256 \(root.fingerprintSHA256)"
                )
            }
        }
    }
}
