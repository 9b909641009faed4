// Types holding a private key print and mirror without it, so a stray
// `print`, `dump` or log interpolation cannot leak key material.

extension ProjectAuthority: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "ProjectAuthority(\(projectID))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["projectID": projectID, "certificate": certificate])
    }
}

extension IssuedServiceAccount: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "IssuedServiceAccount(\(serviceAccount.email))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["serviceAccount": serviceAccount, "certificate": certificate])
    }
}

extension ALTSCredential: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "ALTSCredential(\(serviceAccount.email), trusts: \(trustBundle.projects.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "serviceAccount": serviceAccount,
                "fingerprintSHA256": fingerprintSHA256,
                "trustedProjects": trustBundle.projects,
                "directory": directory.path,
            ]
        )
    }
}
