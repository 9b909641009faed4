import ALTSIdentity
import Foundation
import XCTest

/// Projects and credential directories made through the library's own API,
/// the same path `altsctl` takes.
struct Fixture {
    let projectsDirectory: String
    let root: String

    init(root: String) {
        self.root = root
        self.projectsDirectory = root + "/projects"
    }

    @discardableResult
    func createProject(_ project: String, now: Date = TestPKI.epoch) throws -> ProjectAuthority {
        let authority = try ProjectAuthority.create(projectID: project, now: now)
        try authority.save(projectsDirectory: projectsDirectory)
        return authority
    }

    @discardableResult
    func issue(
        _ name: String,
        project: String,
        into directory: String,
        ttl: TimeInterval = 3600,
        now: Date = TestPKI.epoch
    ) throws -> IssuedServiceAccount {
        let authority = try ProjectAuthority.load(projectsDirectory: projectsDirectory, projectID: project)
        let issued = try authority.issue(ServiceAccountName(name: name, project: project), ttl: ttl, now: now)
        try CredentialDirectory(directory).install(issued)
        return issued
    }

    func rootPath(_ project: String) -> String {
        "\(projectsDirectory)/\(project)/ca.pem"
    }
}
