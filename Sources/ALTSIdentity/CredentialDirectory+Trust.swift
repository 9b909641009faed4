/// What `CredentialDirectory.addTrustedRoot` did.
public enum TrustBundleChange: Equatable, Sendable {
    case added
    /// The project was already trusted with a different root certificate.
    case replaced
    case unchanged
}

extension CredentialDirectory {
    /// The trust-bundle entries on disk, sorted by project.
    public func trustedRoots() throws(IdentityError) -> [ProjectRoot] {
        try TrustBundle.load(directory: trustBundlePath).entries.sorted { $0.project < $1.project }
    }

    /// Federates with `root`'s project by writing `trust-bundle/PROJECT_ID.pem`.
    @discardableResult
    public func addTrustedRoot(_ root: ProjectRoot) throws(IdentityError) -> TrustBundleChange {
        guard FileSystem.isDirectory(path) else {
            throw IdentityError(.fileNotFound(path: path))
        }
        try FileSystem.makeDirectory(trustBundlePath, mode: 0o755)
        let entryPath = trustBundleEntryPath(forProject: root.project)
        var change = TrustBundleChange.added
        if FileSystem.exists(entryPath) {
            let existing = try? ProjectRoot.load(path: entryPath)
            if existing?.der == root.der { return .unchanged }
            change = .replaced
        }
        try FileSystem.replace(entryPath, contents: PEMFiles.encode(root.certificate), mode: 0o644)
        return change
    }

    /// Un-federates `project`. The credential's own issuing project cannot be
    /// removed: without it the credential could not verify its own peers.
    public func removeTrustedRoot(project: String) throws(IdentityError) {
        try ServiceAccountName.validateProjectID(project)
        if issuingProject() == project {
            throw IdentityError(.cannotRemoveIssuingProject(project))
        }
        let entryPath = trustBundleEntryPath(forProject: project)
        guard FileSystem.exists(entryPath) else {
            throw IdentityError(.projectNotInTrustBundle(project))
        }
        try FileSystem.removeFile(entryPath)
    }

    /// The project that issued the credential's certificate, if there is a readable one.
    public func issuingProject() -> String? {
        guard let loaded = try? PEMFiles.readCertificate(certificatePath),
            let profile = try? LeafProfile(loaded.certificate)
        else {
            return nil
        }
        return profile.serviceAccount.project
    }
}
