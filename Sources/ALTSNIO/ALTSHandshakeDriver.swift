import ALTSHandshake
import ALTSIdentity
import ALTSRecord
import NIOCore

/// Runs one handshake on behalf of a channel. The in-process driver calls the state machine
/// directly; a handshaker-service driver relays the same calls over gRPC. Both answer with
/// `ALTSHandshakeStep`s, so the channel handler does not care which it has.
public protocol ALTSHandshakeDriver: AnyObject {
    func start(on eventLoop: any EventLoop) -> EventLoopFuture<ALTSHandshakeStep>
    func process(_ bytes: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<ALTSHandshakeStep>

    /// For a driver that depends on something outside the connection (a handshaker service):
    /// fails as soon as that goes away while the handshake waits on the peer, since no reply
    /// from the peer could finish the handshake any more; succeeds once `end()` is called.
    /// Without it, a connection whose handshaker died would hang until its handshake timeout.
    /// `nil` (the default): nothing outside the connection can be lost.
    func lost(on eventLoop: any EventLoop) -> EventLoopFuture<Void>?

    /// The connection is done with the handshake (completed, failed, timed out or closed):
    /// release what it holds outside the connection now, such as a handshaker-service stream
    /// that counts against the service's concurrency limit. Called more than once is harmless.
    func end()
}

extension ALTSHandshakeDriver {
    public func lost(on eventLoop: any EventLoop) -> EventLoopFuture<Void>? { nil }
    public func end() {}
}

/// The embedded default: the handshake runs in this process with a credential it holds.
public final class ALTSInProcessHandshakeDriver: ALTSHandshakeDriver {
    private let handshaker: ALTSHandshaker

    public init(handshaker: ALTSHandshaker) {
        self.handshaker = handshaker
    }

    /// Uses the store's current credential, so a reloaded credential applies to every
    /// handshake that starts after the reload.
    public convenience init(role: ALTSRole, credentials: CredentialStore, options: ALTSHandshakeOptions) throws(ALTSHandshakeError) {
        self.init(handshaker: try ALTSHandshaker(role: role, credential: credentials.current, options: options))
    }

    public func start(on eventLoop: any EventLoop) -> EventLoopFuture<ALTSHandshakeStep> {
        eventLoop.makeSucceededFuture(handshaker.start())
    }

    public func process(_ bytes: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<ALTSHandshakeStep> {
        eventLoop.makeSucceededFuture(handshaker.process(bytes))
    }
}
