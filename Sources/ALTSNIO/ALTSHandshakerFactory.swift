import ALTSHandshake
import ALTSIdentity
import ALTSRecord
import Logging
import NIOCore
import Synchronization

/// Makes one handshake driver per connection: the in-process handshaker over a credential
/// store, or (from the handshaker-service layer) a client of `grpc.gcp.HandshakerService`.
public struct ALTSHandshakerFactory: Sendable {
    private let make: @Sendable (ALTSRole) throws -> any ALTSHandshakeDriver

    public init(_ make: @escaping @Sendable (ALTSRole) throws -> any ALTSHandshakeDriver) {
        self.make = make
    }

    public func makeDriver(role: ALTSRole) throws -> any ALTSHandshakeDriver {
        try make(role)
    }

    /// Handshakes in this process with the store's current credential.
    public static func inProcess(credentials: CredentialStore, options: ALTSHandshakeOptions) -> Self {
        Self { role in try ALTSInProcessHandshakeDriver(role: role, credentials: credentials, options: options) }
    }
}

/// The first error that ended an ALTS connection, kept for whoever must explain the failure
/// later: a gRPC client whose RPC fails only with "unavailable" after the server refused its
/// certificate, say.
public final class ALTSConnectionErrorRecord: Sendable {
    private let first = Mutex<(any Error)?>(nil)

    public init() {}

    public var error: (any Error)? { first.withLock { $0 } }

    func record(_ error: any Error) {
        first.withLock { if $0 == nil { $0 = error } }
    }
}

/// Completes a promise with the handshake's outcome, records the connection's first error,
/// and otherwise stays out of the way.
final class ALTSHandshakeOutcomeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<ALTSAuthInfo>
    private let errors: ALTSConnectionErrorRecord?

    init(promise: EventLoopPromise<ALTSAuthInfo>, errors: ALTSConnectionErrorRecord?) {
        self.promise = promise
        self.errors = errors
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? ALTSHandshakeCompletedEvent {
            promise.succeed(completed.authInfo)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors?.record(error)
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ALTSChannelError(.closedDuringHandshake))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ALTSChannelError(.closedDuringHandshake))
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the ALTS handshake (and, once it succeeds, the record layer) to this pipeline.
    /// Handlers added after it see plaintext; their writes wait for the handshake. The future
    /// succeeds with the connection's AuthInfo or fails with the handshake's error.
    public func addALTSHandlers(
        role: ALTSRole, factory: ALTSHandshakerFactory,
        configuration: ALTSHandshakeHandler.Configuration = .init(),
        logger: Logger = Logger(label: "swift-alts.handshake"),
        errors: ALTSConnectionErrorRecord? = nil
    ) throws -> EventLoopFuture<ALTSAuthInfo> {
        let promise = eventLoop.makePromise(of: ALTSAuthInfo.self)
        let driver = try factory.makeDriver(role: role)
        try addHandlers([
            ALTSHandshakeHandler(role: role, driver: driver, configuration: configuration, logger: logger),
            ALTSHandshakeOutcomeHandler(promise: promise, errors: errors),
        ])
        return promise.futureResult
    }
}
