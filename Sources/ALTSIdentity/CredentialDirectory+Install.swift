extension CredentialDirectory {
    /// Writes a freshly issued credential, replacing any previous one.
    ///
    /// Other trust-bundle entries are kept, so rotating a credential keeps its
    /// federation. Each file is replaced atomically; the order (issuing root,
    /// key, certificate) means a concurrent reader sees at worst a new key with
    /// the old certificate, which `ALTSCredential.load` rejects as a mismatch
    /// and `CredentialStore` retries on its next poll.
    public func install(_ issued: IssuedServiceAccount) throws(IdentityError) {
        try FileSystem.makeDirectory(path, mode: 0o700)
        try FileSystem.makeDirectory(trustBundlePath, mode: 0o755)
        try FileSystem.replace(
            trustBundleEntryPath(forProject: issued.serviceAccount.project),
            contents: PEMFiles.encode(issued.issuingRoot),
            mode: 0o644
        )
        try FileSystem.replace(keyPath, contents: PEMFiles.encode(issued.privateKey), mode: 0o600)
        try FileSystem.replace(certificatePath, contents: PEMFiles.encode(issued.certificate), mode: 0o644)
    }
}
