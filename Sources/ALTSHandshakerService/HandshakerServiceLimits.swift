/// Bounds on what one client of the handshaker service can make it hold.
public struct HandshakerServiceLimits: Sendable {
    /// Largest `in_bytes` accepted in one request. A handshake message is at most 64 KiB, but
    /// a final `next` may carry the peer's first records too.
    public var maxInBytesPerRequest = 1 << 20
    /// Handshakes in progress at once; more are refused with RESOURCE_EXHAUSTED.
    public var maxConcurrentStreams = 4_096
    /// A stream with no request for this long is ended with DEADLINE_EXCEEDED.
    public var streamIdleTimeout: Duration = .seconds(30)
    /// A connection that has not sent the HTTP/2 client preface by then is closed.
    public var prefaceTimeout: Duration = .seconds(10)

    public init() {}
}
