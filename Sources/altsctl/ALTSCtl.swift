import ALTSIdentity
import ArgumentParser

@main
struct ALTSCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "altsctl",
        abstract: "Manage swift-alts projects, service-account credentials and trust bundles.",
        subcommands: [ProjectsCommand.self, ServiceAccountsCommand.self, BundlesCommand.self]
    )

    /// Replaces ArgumentParser's entry point so every failure, usage errors
    /// included, is one `altsctl: error:` line and exit status 1, which
    /// scripts can match on.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as IdentityError {
            Terminal.fail(error.description)
        } catch let error as CLIFailure {
            Terminal.fail(error.message)
        } catch {
            if exitCode(for: error) == .success {
                exit(withError: error)
            }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            Terminal.fail(message + " (see 'altsctl help')")
        }
    }
}
