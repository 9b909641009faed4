extension TrustBundle {
    /// Loads every `PROJECT_ID.pem` in `directory` (a CREDDIR's `trust-bundle/`).
    public static func load(directory: String) throws(IdentityError) -> TrustBundle {
        guard FileSystem.isDirectory(directory) else {
            throw IdentityError(.noTrustBundle(path: directory))
        }
        var entries: [ProjectRoot] = []
        for name in try FileSystem.list(directory) where isEntryFileName(name) {
            let path = FileSystem.join(directory, name)
            let root = try ProjectRoot.load(path: path)
            // The file name is how `bundles remove` finds an entry, so a
            // misnamed file would be a root that cannot be un-federated.
            guard name == root.project + ".pem" else {
                throw IdentityError(.trustBundleEntryMismatch(path: path, project: root.project))
            }
            entries.append(root)
        }
        guard !entries.isEmpty else {
            throw IdentityError(.noTrustBundle(path: directory))
        }
        return TrustBundle(entries: entries)
    }

    /// Hidden files are the temporaries of atomic replacement, never entries.
    static func isEntryFileName(_ name: String) -> Bool {
        name.hasSuffix(".pem") && !name.hasPrefix(".")
    }
}
