import ALTSIdentity
import ArgumentParser

struct ProjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projects",
        abstract: "Manage projects (trust domains) and their root CAs.",
        subcommands: [Create.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project: DIR/PROJECT_ID/ca.pem and ca.key."
        )

        @Argument(help: "Project ID: 1-63 characters of [a-z0-9-], starting with a letter.")
        var projectID: String

        @Option(help: "Directory holding one sub-directory per project.")
        var dir: String

        @Option(help: "Root certificate lifetime, e.g. 3652d.")
        var validity: String = "3652d"

        func run() throws {
            let lifetime = try DurationParser.parse(validity)
            let authority = try ProjectAuthority.create(projectID: projectID, validity: lifetime)
            try authority.save(projectsDirectory: dir)
            let directory = ProjectAuthority.directory(projectsDirectory: dir, projectID: projectID)
            print("Created project \(projectID)")
            print("Root certificate: \(directory)/\(ProjectAuthority.certificateFileName)")
            print("Root key: \(directory)/\(ProjectAuthority.keyFileName)")
            print("Not after: \(ISO8601Time.format(authority.certificate.notValidAfter))")
        }
    }
}
