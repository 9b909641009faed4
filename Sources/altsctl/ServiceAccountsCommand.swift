import ALTSIdentity
import ArgumentParser
import Foundation

struct ServiceAccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-accounts",
        abstract: "Issue and inspect service-account credentials.",
        subcommands: [Create.self, Describe.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue NAME@PROJECT_ID.iam.gserviceaccount.com into a credential directory."
        )

        @Argument(help: "Account name: 1-63 characters of [a-z0-9-], starting with a letter.")
        var name: String

        @Option(help: "Issuing project ID.")
        var project: String

        @Option(help: "Directory holding the projects.")
        var dir: String

        @Option(help: "Certificate lifetime: 90s, 30m, 24h, 7d, 1h30m...")
        var ttl: String = "24h"

        @Option(help: "Credential directory to write (created if absent).")
        var out: String

        func run() throws {
            let lifetime = try DurationParser.parse(ttl)
            let account = try ServiceAccountName(name: name, project: project)
            let authority = try ProjectAuthority.load(projectsDirectory: dir, projectID: project)
            let issued = try authority.issue(account, ttl: lifetime)
            let credentialDirectory = CredentialDirectory(out)
            try credentialDirectory.install(issued)
            print("Issued service account \(account.email)")
            print("Certificate: \(credentialDirectory.certificatePath)")
            print("Key: \(credentialDirectory.keyPath)")
            print("Not after: \(ISO8601Time.format(issued.certificate.notValidAfter))")
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a credential directory; fail if it is not currently usable."
        )

        @Argument(help: "Credential directory.")
        var credentialDirectory: String

        func run() throws {
            let credential = try ALTSCredential.load(directory: credentialDirectory)
            let account = credential.serviceAccount
            print("Service account: \(account.email)")
            print("SPIFFE ID: \(account.spiffeID)")
            print("Project: \(account.project)")
            print("Issuer: \(credential.certificate.issuer)")
            print("Not before: \(ISO8601Time.format(credential.certificate.notValidBefore))")
            print("Not after: \(ISO8601Time.format(credential.certificate.notValidAfter))")
            print("Fingerprint (SHA-256): \(credential.fingerprintSHA256)")
            print("Trust bundle: \(credential.trustBundle.projects.joined(separator: ", "))")
            // No clock-skew allowance: describe reports the local truth, so an
            // operator sees expiry before peers start refusing the credential.
            try credential.validate(now: Date(), clockSkew: 0)
        }
    }
}
