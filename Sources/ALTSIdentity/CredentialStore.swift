import Foundation
import Synchronization

/// The credential a process presents, replaceable while it runs (rotation).
///
/// Handshakes read `current` once and keep that value, so a reload never
/// affects a connection already established or in progress.
public final class CredentialStore: Sendable {
    public let directory: String
    public let clockSkew: TimeInterval
    private let clock: @Sendable () -> Date

    private struct Snapshot: Sendable {
        var credential: ALTSCredential
        var stamps: [String: FileSystem.Stamp]
    }

    private let snapshot: Mutex<Snapshot>
    /// Serializes reloads so a slow, older reload cannot overwrite a newer one.
    private let reloading = Mutex(())

    /// Loads and validates the credential in `directory`.
    public init(
        directory: String,
        clockSkew: TimeInterval = 300,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(IdentityError) {
        self.directory = directory
        self.clockSkew = clockSkew
        self.clock = clock
        self.snapshot = Mutex(try Self.read(directory, clockSkew: clockSkew, now: clock()))
    }

    public var current: ALTSCredential {
        snapshot.withLock { $0.credential }
    }

    /// Re-reads the directory. A credential that fails to load or validate is
    /// not installed: the previous one stays current and the error is thrown.
    @discardableResult
    public func reload() throws(IdentityError) -> ALTSCredential {
        try reloading.withLock { _ throws(IdentityError) -> ALTSCredential in
            let fresh = try Self.read(directory, clockSkew: clockSkew, now: clock())
            snapshot.withLock { $0 = fresh }
            return fresh.credential
        }
    }

    /// Reloads if any file of the credential changed (size, modification time
    /// or inode, which atomic replacement always changes). Returns whether a
    /// new credential was installed.
    ///
    /// A failed reload leaves the recorded file state untouched, so the next
    /// call retries; a half-finished rotation is picked up once complete.
    @discardableResult
    public func reloadIfChanged() throws(IdentityError) -> Bool {
        try reloading.withLock { _ throws(IdentityError) -> Bool in
            let recorded = snapshot.withLock { $0.stamps }
            guard Self.stamps(of: CredentialDirectory(directory)) != recorded else {
                return false
            }
            let fresh = try Self.read(directory, clockSkew: clockSkew, now: clock())
            snapshot.withLock { $0 = fresh }
            return true
        }
    }

    private static func read(_ directory: String, clockSkew: TimeInterval, now: Date) throws(IdentityError) -> Snapshot {
        // Stamps are taken before reading, so a change racing with this read
        // shows up as a difference on the next poll instead of being missed.
        let stamps = stamps(of: CredentialDirectory(directory))
        let credential = try ALTSCredential.load(directory: directory, now: now)
        try credential.validate(now: now, clockSkew: clockSkew)
        return Snapshot(credential: credential, stamps: stamps)
    }

    private static func stamps(of directory: CredentialDirectory) -> [String: FileSystem.Stamp] {
        var result: [String: FileSystem.Stamp] = [:]
        for path in directory.watchedFiles() {
            result[path] = FileSystem.stamp(path)
        }
        return result
    }
}
