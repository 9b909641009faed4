import ALTSIdentity
import Dispatch
import Foundation
import Logging
import NIOCore
import Synchronization

/// Keeps a `CredentialStore` current while a process runs: it re-reads the credential
/// directory when its files change (polled) and on SIGHUP. Handshakes read the store when
/// they start, so new handshakes use the new certificate while established connections keep
/// theirs. A reload that fails (a half-written rotation, an expired certificate) keeps the
/// old credential and is logged; polling retries it.
public final class ALTSCredentialReloader: Sendable {
    public let store: CredentialStore
    private let logger: Logger
    private let state = Mutex<(poll: RepeatedTask?, signal: (any DispatchSourceSignal)?)>((nil, nil))

    public init(store: CredentialStore, logger: Logger = Logger(label: "swift-alts.credentials")) {
        self.store = store
        self.logger = logger
    }

    /// Starts polling every `pollInterval` on `eventLoop`, and reloading on SIGHUP when
    /// `reloadOnSIGHUP` is set (the process then no longer dies of SIGHUP).
    public func start(on eventLoop: any EventLoop, pollInterval: TimeAmount = .seconds(5), reloadOnSIGHUP: Bool = true) {
        let poll = eventLoop.scheduleRepeatedTask(initialDelay: pollInterval, delay: pollInterval) { [self] _ in
            reloadIfChanged()
        }
        var source: (any DispatchSourceSignal)?
        if reloadOnSIGHUP {
            signal(SIGHUP, SIG_IGN)
            let signalSource = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            signalSource.setEventHandler { [self] in
                reload(reason: "SIGHUP")
            }
            signalSource.resume()
            source = signalSource
        }
        state.withLock { $0 = (poll, source) }
    }

    public func stop() {
        state.withLock { state in
            state.poll?.cancel()
            state.signal?.cancel()
            state = (nil, nil)
        }
    }

    /// Re-reads the directory now, whatever changed.
    public func reload(reason: String) {
        do {
            let credential = try store.reload()
            logger.notice("credential reloaded", metadata: [
                "reason": "\(reason)", "service_account": "\(credential.serviceAccount.email)",
                "certificate_sha256": "\(credential.fingerprintSHA256)",
            ])
        } catch {
            logger.error("credential reload failed; keeping the previous credential", metadata: [
                "reason": "\(reason)", "directory": "\(store.directory)", "error": "\(error)",
            ])
        }
    }

    /// Reloads if the directory's files changed since the last load.
    public func reloadIfChanged() {
        do {
            if try store.reloadIfChanged() {
                let credential = store.current
                logger.notice("credential reloaded", metadata: [
                    "reason": "files changed", "service_account": "\(credential.serviceAccount.email)",
                    "certificate_sha256": "\(credential.fingerprintSHA256)",
                ])
            }
        } catch {
            logger.error("credential reload failed; keeping the previous credential", metadata: [
                "directory": "\(store.directory)", "error": "\(error)",
            ])
        }
    }
}
